import { Context } from "effect"
import type { Permission } from "../domain/Permissions.ts"

/**
 * The permission an endpoint needs, as an endpoint annotation; `admin` means only the
 * `API_KEY_ADMIN` key. The `Authenticated` middleware enforces it.
 */
export class RequiredPermission extends Context.Service<RequiredPermission, Permission | "admin">()(
  "@lunarbit/gateway-core/RequiredPermission"
) {}
