/**
 * The reason an environment gives for refusing a sign-up. The pre-sign-up trigger refuses with a
 * sentence for the person ("Sign-up is open only to addresses at example.com"); Cognito wraps it
 * as `PreSignUp failed with error <reason>.` (a UserLambdaValidationException, or a hosted
 * sign-in's error_description). Only that trigger's words are shown: any other text is null.
 */
export function signUpRefusal(text: string | null | undefined): string | null {
  const match = /^PreSignUp failed with error ([\s\S]+?)[.\s]*$/.exec((text ?? "").trim());
  const reason = match?.[1]?.replace(/[.\s]+$/, "").trim();
  return reason ? `${reason}.` : null;
}
