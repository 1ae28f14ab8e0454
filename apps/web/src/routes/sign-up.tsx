import { AuthPage } from './auth-page';

export function Component() {
  return <AuthPage mode="sign-up" />;
}
