/** One line under the composer when a tiny local demo model answers, so nobody expects more. */
export function DemoModelHint({ model }: { model: string }) {
  return (
    <p className="model-hint">
      Answers come from {model}, a tiny model running on this machine: expect short, simple and sometimes wrong replies.
    </p>
  );
}
