import { ApiError } from './errors.ts'

/** Entity tags a header lists, or `*` (any current balance). */
type TagList = '*' | readonly string[]

/** A write's preconditions, from If-Match and If-None-Match (RFC 9110, section 13.1). */
export interface Preconditions {
  ifMatch: TagList | undefined
  ifNoneMatch: TagList | undefined
}

// One entity tag (optionally weak) and the comma after it, read where the last one ended.
const TAG = /[ \t]*(W\/)?("[\x21\x23-\x7e\x80-\xff]*")[ \t]*(,|$)/y

function parseTags(name: string, value: string): TagList {
  if (value.trim() === '*') return '*'
  const tags: string[] = []
  TAG.lastIndex = 0
  // At least one tag: an empty header is as malformed as a stray word.
  do {
    const m = TAG.exec(value)
    if (!m) {
      throw new ApiError(
        'bad_request',
        `${name} ${JSON.stringify(value)} is not * or a list of entity tags; send the ETag of GET /saldo/{cliente_id} as it came, e.g. ${name}: "0-42"`,
      )
    }
    // Weak tags never match strongly (If-Match), and saldo sends none: keep the marker to tell them apart.
    tags.push((m[1] ?? '') + (m[2] as string))
  } while (TAG.lastIndex < value.length)
  return tags
}

/** The request's preconditions, or undefined when it has none; a 400 when a header is malformed. */
export function preconditions(headers: Headers): Preconditions | undefined {
  const ifMatch = headers.get('if-match')
  const ifNoneMatch = headers.get('if-none-match')
  if (ifMatch === null && ifNoneMatch === null) return undefined
  return {
    ifMatch: ifMatch === null ? undefined : parseTags('If-Match', ifMatch),
    ifNoneMatch: ifNoneMatch === null ? undefined : parseTags('If-None-Match', ifNoneMatch),
  }
}

/**
 * Why the preconditions fail against the current ETag (undefined: no balance), or undefined when
 * they hold. If-Match compares strongly, If-None-Match weakly, as RFC 9110 says for each.
 */
export function unmet(
  { ifMatch, ifNoneMatch }: Preconditions,
  current: string | undefined,
): string | undefined {
  if (ifMatch !== undefined) {
    if (current === undefined)
      return 'If-Match failed: the client has no balance; GET it again before writing'
    if (ifMatch !== '*' && !ifMatch.includes(current))
      return `If-Match failed: the balance changed (its ETag is now ${current}); GET it again before writing`
  }
  if (ifNoneMatch !== undefined && current !== undefined) {
    if (ifNoneMatch === '*' || ifNoneMatch.some((tag) => tag.replace(/^W\//, '') === current))
      return `If-None-Match failed: the client already has a balance (ETag ${current})`
  }
  return undefined
}
