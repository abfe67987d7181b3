import { deleteWarning } from "@/features/conversations/components/ConversationSidebar";

describe("deleteWarning", () => {
  it("says a room is deleted for everyone in it, and a private chat only that it is deleted", () => {
    expect(deleteWarning({ title: "Plans", kind: "group" })).toBe(
      "“Plans” and all its messages will be deleted for everyone in the room. This cannot be undone.",
    );
    expect(deleteWarning({ title: "Python basics", kind: "assistant" })).toBe("“Python basics” and all its messages will be deleted. This cannot be undone.");
    expect(deleteWarning({ title: "", kind: "assistant" })).not.toContain("everyone");
  });
});
