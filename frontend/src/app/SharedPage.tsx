import { LazyMarkdown } from "@/features/chat/components/LazyMarkdown";
import { SharedConversationView } from "@/features/shares/components/SharedConversationView";
import type { AppConfig } from "@/config/config";

const markdown = (text: string) => <LazyMarkdown text={text} />;

/** The public page of a share link (`#/s/<id>`): no session, no Cognito, the chat's markdown. */
export function SharedPage({ config, shareId }: { config: AppConfig; shareId: string }) {
  return <SharedConversationView httpApiUrl={config.httpApiUrl} shareId={shareId} markdown={markdown} />;
}
