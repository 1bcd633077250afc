import { ApiError } from './errors.ts'

/** The body as text, reading no more than `limit` bytes: a huge or endless body is refused early. */
async function readBody(request: Request, limit: number, shape: string): Promise<string> {
  const tooLarge = () => new ApiError('payload_too_large', `the body is over ${limit} bytes; send ${shape}`)
  if (Number(request.headers.get('content-length') ?? 0) > limit) throw tooLarge()
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = request.body?.getReader()
  for (let next = await reader?.read(); next && !next.done; next = await reader?.read()) {
    size += next.value.byteLength
    if (size > limit) {
      await reader?.cancel()
      throw tooLarge()
    }
    chunks.push(next.value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** A JSON body of at most `limit` bytes; `shape` tells the client what to send. */
async function jsonBody(request: Request, limit: number, shape: string): Promise<unknown> {
  const type = request.headers.get('content-type') ?? ''
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new ApiError(
      'unsupported_media_type',
      `Content-Type ${JSON.stringify(type)}; send application/json`,
    )
  }
  const text = await readBody(request, limit, shape)
  try {
    return JSON.parse(text)
  } catch {
    throw new ApiError('bad_request', `the body is not valid JSON; send ${shape}`)
  }
}

/**
 * A route's `parse` option: `check` (who may send a body) first, then the JSON body, at most `limit`
 * bytes (Elysia's own parser would read any size, before any auth hook). The function always answers;
 * 'application/json' after it is for the OpenAPI document, which cannot see into a function.
 * The hook destructures what it reads: Elysia builds per request only what hooks name.
 */
export function jsonParse(check: (context: { request: Request }) => void, limit: number, shape: string) {
  const parse = ({ request }: { request: Request }) => {
    check({ request })
    return jsonBody(request, limit, shape)
  }
  return [parse, 'application/json' as const]
}
