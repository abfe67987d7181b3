import { activeBranch } from "@/features/chat/hooks/branches";
import type { DisplayMessage } from "@/features/chat/hooks/live-store";

const C = "01C0000000000000000000000C";
let clock = 0;
function msg(id: string, role: "user" | "assistant", extra: Partial<DisplayMessage> = {}): DisplayMessage {
  clock += 1;
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, clock)).toISOString();
  return { id, conversationId: C, authorId: role === "user" ? "me" : "assistant", role, content: id, status: "complete", attachments: [], createdAt: at, updatedAt: at, ...extra };
}

describe("activeBranch", () => {
  const q1 = msg("01A", "user", { parentId: C });
  const a1 = msg("01B", "assistant", { replyTo: "01A" });
  const q2 = msg("01C", "user", { parentId: "01B" });
  const a2 = msg("01D", "assistant", { replyTo: "01C" });
  const q2edit = msg("01E", "user", { parentId: "01B" });
  const a2edit = msg("01F", "assistant", { replyTo: "01E" });
  const all = [q1, a1, q2, a2, q2edit, a2edit];

  it("shows the newest branch with the versions of the edited message", () => {
    const shown = activeBranch(all, C, {});
    expect(shown.map((m) => m.id)).toEqual(["01A", "01B", "01E", "01F"]);
    expect(shown[2]!.versions).toEqual({ index: 1, ids: ["01C", "01E"] });
    expect(shown[0]!.versions).toBeUndefined();
  });

  it("flips back to the earlier branch", () => {
    expect(activeBranch(all, C, { "01B": "01C" }).map((m) => m.id)).toEqual(["01A", "01B", "01C", "01D"]);
  });

  it("shows the newest version of a regenerated reply, and the others as versions", () => {
    const again = msg("01G", "assistant", { replyTo: "01E" });
    const shown = activeBranch([...all, again], C, {});
    expect(shown.map((m) => m.id)).toEqual(["01A", "01B", "01E", "01G"]);
    expect(shown[3]!.versions).toEqual({ index: 1, ids: ["01F", "01G"] });
  });

  it("does not count a failed reply as a version once the question has an answer", () => {
    const failed = msg("01G", "assistant", { replyTo: "01E", status: "failed" });
    const retried = msg("01H", "assistant", { replyTo: "01E" });
    const shown = activeBranch([q1, a1, q2edit, failed, retried], C, {});
    expect(shown.map((m) => m.id)).toEqual(["01A", "01B", "01E", "01H"]);
    expect(shown[3]!.versions).toBeUndefined();
    expect(activeBranch([q1, a1, q2edit, failed], C, {}).map((m) => m.id)).toEqual(["01A", "01B", "01E", "01G"]);
  });

  it("reads messages stored before branches as one branch, and keeps pending ones last", () => {
    const old = [msg("01H", "user"), msg("01J", "assistant", { replyTo: "01H" }), msg("01K", "user")];
    const pending = msg("pending-x", "user", { local: "sending" });
    expect(activeBranch([...old, pending], C, {}).map((m) => m.id)).toEqual(["01H", "01J", "01K", "pending-x"]);
  });

  it("starts where the loaded pages start", () => {
    expect(activeBranch([q2, a2, q2edit, a2edit], C, {}).map((m) => m.id)).toEqual(["01E", "01F"]);
  });
});
