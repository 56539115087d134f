/** LunarCore LC-VER: the gateway's own version, reported by `/health` and the OpenAPI document. */
export const VERSION = "2.0.0"
