// A plain Node application that installed the gateway from npm: the gateway answers under /gateway,
// the application everything else. Run with `node app.mjs`; it prints the address it listens on.
import { createServer } from "node:http"
import { embed } from "@lunarbit/gateway-node"

const gateway = await embed({ prefix: "/gateway" })
const server = createServer((request, response) => {
  if (gateway.handle(request, response)) return
  response.writeHead(200, { "content-type": "text/plain" })
  response.end("the application\n")
})
server.listen(Number(process.env.APP_PORT ?? 0), "127.0.0.1", () => {
  console.log(`app listening on http://127.0.0.1:${server.address().port}`)
})
process.on("SIGTERM", () => server.close(() => gateway.close()))
