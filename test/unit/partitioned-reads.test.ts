import { describe, expect, it } from 'bun:test'
import type { Change } from '../../src/store/store.ts'
import { setup, TOKEN } from './app-fixture.ts'
import { StaticOwnership } from './static-ownership.ts'

// Three instances under app.handle, MODE=partitioned over a 2-partition topic: A owns 0, B owns 1,
// C holds a standby of both. Requests between them go through an injected fetch, no network.
const A = 'http://a.test:5000'
const B = 'http://b.test:5000'
const C = 'http://c.test:5000'
const auth = { authorization: `Bearer ${TOKEN}` }
// murmur2 over 2 partitions: k3 and k4 are on 0, k0 and k1 on 1.
const ON_0 = ['k3', 'k4']
const ON_1 = ['k0', 'k1']
const put = (id: string): Change => ({
  kind: 'put',
  balance: { cliente_id: id, saldo: Number(id.slice(1)), timestamp: '2025-10-14T10:30:45' },
})

function cluster() {
  const down = new Set<string>()
  const calls: string[] = []
  const apps = new Map<string, ReturnType<typeof setup>>()
  const fetch = async (url: string, init: RequestInit) => {
    const { origin, pathname } = new URL(url)
    calls.push(`${origin}${pathname}`)
    if (down.has(origin)) throw new TypeError(`connect ECONNREFUSED ${origin}`)
    return (apps.get(origin) as ReturnType<typeof setup>).app.handle(new Request(url, init))
  }
  const held = { [A]: [0], [B]: [1], [C]: [0, 1] }
  for (const [url, partitions] of Object.entries(held)) {
    const ownership = new StaticOwnership(url, { 0: A, 1: B })
    ownership.standbys = { 0: [C], 1: [C] }
    const instance = setup({ token: TOKEN, mode: 'partitioned', ownership, fetch })
    instance.store.setOrigin({ topic: 'contas', clusterId: 'test-cluster', partitions: 2 })
    // The fixture's store holds two keys on partition 0: only A and C hold it here.
    instance.progress.remove(0)
    instance.store.dropPartition(0)
    for (const partition of partitions) {
      const ids = partition === 0 ? ON_0 : ON_1
      instance.store.apply(partition, ids.map(put), 10, [8, 9])
      instance.progress.add(partition, 10, 10)
    }
    instance.watch.applied()
    apps.set(url, instance)
  }
  const at = (url: string) => apps.get(url) as ReturnType<typeof setup>
  return { at, down, calls }
}

const servedBy = (res: Response) => [
  res.headers.get('x-saldo-served-by'),
  res.headers.get('x-saldo-served-as'),
]

describe('MODE=partitioned reads', () => {
  it('answers a key of its own partition here, saying so', async () => {
    const { at, calls } = cluster()
    const res = await at(A).get('/saldo/k3', auth)
    expect(res.status).toBe(200)
    expect(((await res.json()) as { saldo: number }).saldo).toBe(3)
    expect(servedBy(res)).toEqual([A, 'owner'])
    expect(res.headers.get('etag')).toBe('"0-8"')
    expect(calls).toEqual([])
  })

  it("asks the owner for another instance's key, passing the token and min_position on", async () => {
    const { at, calls } = cluster()
    const res = await at(A).get('/saldo/k0?min_position=1:10,0:999', auth)
    expect(res.status).toBe(200)
    expect(((await res.json()) as { saldo: number }).saldo).toBe(0)
    expect(servedBy(res)).toEqual([B, 'owner'])
    expect(res.headers.get('x-saldo-position')).toBe('1:10')
    expect(calls).toEqual([`${B}/saldo/k0`])
    // Without the token, the owner refuses it as A would have.
    expect((await at(A).get('/saldo/k0')).status).toBe(401)
  })

  it('answers an unknown key of a held partition 404, and of another partition as its owner does', async () => {
    const { at } = cluster()
    expect((await at(A).get('/saldo/k7', auth)).status).toBe(404) // k7 is on 0
    const res = await at(A).get('/saldo/k2', auth) // k2 is on 1
    expect(res.status).toBe(404)
    expect(servedBy(res)).toEqual([B, 'owner'])
  })

  it('asks a standby when the owner cannot be reached, and the standby says so', async () => {
    const { at, down } = cluster()
    down.add(B)
    const res = await at(A).get('/saldo/k1', auth)
    expect(res.status).toBe(200)
    expect(((await res.json()) as { saldo: number }).saldo).toBe(1)
    expect(servedBy(res)).toEqual([C, 'standby'])
  })

  it('answers 503 naming the partition, never 404, while no instance can answer for it', async () => {
    const { at, down } = cluster()
    down.add(B)
    down.add(C)
    const res = await at(A).get('/saldo/k2', auth)
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('3')
    expect(((await res.json()) as { error: string }).error).toContain('partition 1 cannot be read now')
    // A rebalance in progress: the last generation's holders are asked, and are down.
    at(A).ownership.set(undefined)
    const moving = await at(A).get('/saldo/k0', auth)
    expect(moving.status).toBe(503)
    expect(((await moving.json()) as { error: string }).error).toContain(
      `neither its owner nor a standby answered (${B}, ${C})`,
    )
  })

  it("reads on from the last assignment's owner and standbys while the instances rebalance", async () => {
    const { at, down, calls } = cluster()
    at(A).ownership.set(undefined)
    const fromOwner = await at(A).get('/saldo/k0', auth)
    expect(fromOwner.status).toBe(200)
    expect(servedBy(fromOwner)).toEqual([B, 'owner'])
    // B is gone (what the rebalance is about): its standby answers, /saldos too.
    down.add(B)
    const fromStandby = await at(A).get('/saldo/k1', auth)
    expect(((await fromStandby.json()) as { saldo: number }).saldo).toBe(1)
    expect(servedBy(fromStandby)).toEqual([C, 'standby'])
    const many = await at(A).get('/saldos?ids=k0,k3', auth)
    expect(many.status).toBe(200)
    expect(many.headers.get('x-saldo-served-by')).toBe(`${A}, ${C}`)
    expect(calls).toEqual([`${B}/saldo/k0`, `${B}/saldo/k1`, `${C}/saldo/k1`, `${B}/saldos`, `${C}/saldos`])
  })

  it('answers a forwarded read only from a caught-up copy: one hop at most', async () => {
    const { at, calls } = cluster()
    const res = await at(B).get('/saldo/k3', { ...auth, 'x-saldo-forwarded-by': A })
    expect(res.status).toBe(503)
    expect(calls).toEqual([])
  })

  it('reads /saldos here and from each owner once, in parallel, and merges the answers', async () => {
    const { at, calls } = cluster()
    const res = await at(A).get(`/saldos?ids=${[...ON_0, ...ON_1, 'k2'].join(',')}`, auth)
    expect(res.status).toBe(200)
    const body = (await res.json()) as { balances: Array<{ cliente_id: string }>; missing: string[] }
    expect(body.balances.map((b) => b.cliente_id).sort()).toEqual(['k0', 'k1', 'k3', 'k4'])
    expect(body.missing).toEqual(['k2'])
    expect(calls).toEqual([`${B}/saldos`])
    expect(res.headers.get('x-saldo-served-by')).toBe(`${A}, ${B}`)
    expect(res.headers.get('x-saldo-position')).toBe('0:10,1:10')
  })

  it('reads /saldos of an unreachable owner from the standbys', async () => {
    const { at, down } = cluster()
    down.add(B)
    const res = await at(A).send('POST', '/saldos', JSON.stringify({ ids: ['k0', 'k3'] }), {
      ...auth,
      'content-type': 'application/json',
    })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { balances: Array<{ cliente_id: string }> }
    expect(body.balances.map((b) => b.cliente_id).sort()).toEqual(['k0', 'k3'])
    expect(res.headers.get('x-saldo-served-by')).toBe(`${A}, ${C}`)
  })
})
