import { randomUUID } from 'node:crypto'
import type { ErrorBody, MovementResult } from '../http/models.ts'

export interface MovementClientOptions {
  /** saldo-api's base URL, e.g. http://localhost:5000. */
  url: string
  token: string | undefined
  /** One Idempotency-Key for every attempt: what makes the retries safe. */
  key?: string
  /** Attempts in all, the first included. */
  attempts?: number
  /** How long one attempt may take before it is abandoned (and retried with the same key). */
  timeoutMs?: number
  fetch?: (request: Request) => Promise<Response>
  sleep?: (ms: number) => Promise<void>
  /** Told of each attempt that is retried, and why. */
  onRetry?: (reason: string, waitMs: number) => void
}

/** What the API finally answered: its status and JSON body. */
export interface MovementOutcome {
  status: number
  body: unknown
  key: string
}

/**
 * POSTs one movement with an Idempotency-Key, and retries it with the same key when the answer is
 * unknown (a timeout, a network error) or a 5xx: the server applies it once, and a retry of an
 * applied one answers what the first did. A 4xx is final: it is returned. Throws once every attempt
 * failed, saying the last reason.
 */
export async function sendMovement(
  clienteId: string,
  valor: number,
  options: MovementClientOptions,
): Promise<MovementOutcome> {
  const { url, token, key = randomUUID(), attempts = 5, timeoutMs = 10_000 } = options
  const send = options.fetch ?? ((request: Request) => fetch(request))
  const sleep = options.sleep ?? Bun.sleep
  let reason = ''
  for (let attempt = 1; ; attempt++) {
    let retryAfterMs: number | undefined
    try {
      const res = await send(
        new Request(`${url}/saldo/${encodeURIComponent(clienteId)}/movimentos`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': key,
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify({ valor }),
          signal: AbortSignal.timeout(timeoutMs),
        }),
      )
      const body = await res.json().catch(() => null)
      if (res.status < 500) return { status: res.status, body, key }
      reason = `HTTP ${res.status}: ${(body as { error?: string } | null)?.error ?? 'no error text'}`
      const header = Number(res.headers.get('retry-after'))
      if (header > 0) retryAfterMs = header * 1000
    } catch (error) {
      reason = `${(error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (error as Error).message}`
    }
    if (attempt >= attempts)
      throw new Error(
        `the movement was not confirmed after ${attempts} attempts (${reason}); retrying with Idempotency-Key ${key} is safe`,
      )
    const waitMs = retryAfterMs ?? Math.min(4_000, 250 * 2 ** (attempt - 1))
    options.onRetry?.(reason, waitMs)
    await sleep(waitMs)
  }
}

/** The line saldo-produce prints for an outcome, and whether it is a success (201). */
export function movementLine({ status, body, key }: MovementOutcome): { ok: boolean; text: string } {
  const answer = body as MovementResult | ErrorBody | null
  if (status === 201 && answer && 'movimento' in answer) {
    const { valor, saldo_anterior, saldo, cliente_id } = answer.movimento
    const what = valor > 0 ? `credit of ${valor}` : `debit of ${-valor}`
    return {
      ok: true,
      text: `${what} for cliente_id ${JSON.stringify(cliente_id)}: saldo ${saldo_anterior ?? 'none'} → ${saldo} (Idempotency-Key ${key})`,
    }
  }
  const error = answer && 'error' in answer ? answer.error : 'no error text'
  return { ok: false, text: `HTTP ${status}: ${error}` }
}
