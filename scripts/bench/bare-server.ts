// The runtime's limit for GET /saldo/:id: a bare Bun.serve doing the same Map lookup as saldo-api,
// over the same ids (1..KEYS) and the same record shape. Prints "listening" once it serves.
//   PORT=… KEYS=… bun scripts/bench/bare-server.ts
import type { Balance } from '../../src/balance.ts'

const keys = Number(process.env.KEYS)
const rows = new Map<string, Balance>()
const timestamp = new Date().toISOString()
for (let i = 1; i <= keys; i++) {
  const id = String(i)
  rows.set(id, { cliente_id: id, saldo: Math.round(Math.random() * 10_000_000) / 100, timestamp })
}
const PREFIX = '/saldo/'
Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.env.PORT),
  fetch(request) {
    const path = new URL(request.url).pathname
    const balance = path.startsWith(PREFIX)
      ? rows.get(decodeURIComponent(path.slice(PREFIX.length)))
      : undefined
    return balance
      ? Response.json(balance)
      : Response.json({ error: 'cliente não encontrado' }, { status: 404 })
  },
})
console.log('listening')
