import { createContext, useContext } from "react";

import type { HttpClient } from "@/lib/http";

/** Who is signed in and how to call the API: shared by every feature once the app has a session. */
export interface Session {
  userId: string;
  email: string;
  name: string;
  http: HttpClient;
  /** The tiny local demo model when it is what answers (config.json `local.demoModel`), else null. */
  demoModel: string | null;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession must be used inside SessionContext");
  return session;
}
