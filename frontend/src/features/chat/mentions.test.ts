import { applyMention, handleFor, matchMentions, mentionAt } from "@/features/chat/mentions";

describe("mentions", () => {
  it("finds the @word before the caret, not an e-mail address", () => {
    expect(mentionAt("hello @ass", 10)).toEqual({ start: 6, query: "ass" });
    expect(mentionAt("@", 1)).toEqual({ start: 0, query: "" });
    expect(mentionAt("mail me at bob@example", 22)).toBeNull();
    expect(mentionAt("@assistant done", 15)).toBeNull();
  });

  it("ranks prefix matches first", () => {
    expect(matchMentions(["assistant", "Sam", "Bassem"], "s")).toEqual(["Sam", "assistant", "Bassem"]);
  });

  it("inserts the handle and moves the caret after it", () => {
    expect(applyMention("hi @as there", 3, 6, "assistant")).toEqual({ text: "hi @assistant  there", caret: 14 });
  });

  it("makes a handle from a name", () => {
    expect(handleFor(" Ana  Lima ")).toBe("Ana_Lima");
  });
});
