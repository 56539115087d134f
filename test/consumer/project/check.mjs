// The Promise client from the installed package: `node check.mjs <gateway URL> <API key>` prints
// the update the gateway offers a Windows x64 install of trackly 1.0.0.
import { createClient } from "@lunarbit/gateway-core/client"

const [baseUrl, apiKey] = process.argv.slice(2)
const gateway = createClient({ baseUrl, apiKey })
const update = await gateway.updates.check("trackly", "stable", {
  current_version: "1.0.0",
  platform: "windows",
  architecture: "x64"
})
console.log(JSON.stringify(update))
