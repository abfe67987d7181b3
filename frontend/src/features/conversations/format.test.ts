import { displayTitle, filterConversations, relativeTime } from "@/features/conversations/format";

describe("conversation helpers", () => {
  const items = [
    { title: "Crème brûlée recipe", kind: "assistant" as const },
    { title: "", kind: "assistant" as const },
    { title: "Team standup", kind: "group" as const },
  ];

  it("searches titles ignoring case and accents", () => {
    expect(filterConversations(items, "CREME").map((i) => i.title)).toEqual(["Crème brûlée recipe"]);
    expect(filterConversations(items, "new chat")).toHaveLength(1);
    expect(filterConversations(items, "  ")).toHaveLength(3);
  });

  it("names untitled conversations by kind", () => {
    expect(displayTitle({ title: " ", kind: "group" })).toBe("Untitled room");
    expect(displayTitle({ title: "", kind: "assistant" })).toBe("New chat");
  });

  it("formats recent activity compactly", () => {
    const now = Date.parse("2026-11-27T12:00:00Z");
    expect(relativeTime("2026-11-27T11:59:30Z", now)).toBe("now");
    expect(relativeTime("2026-11-27T11:15:00Z", now)).toBe("45m");
    expect(relativeTime("2026-11-27T02:00:00Z", now)).toBe("10h");
    expect(relativeTime("2026-11-25T12:00:00Z", now)).toBe("2d");
    expect(relativeTime("garbage", now)).toBe("");
  });
});
