/**
 * The lines of a byte stream such as stdin, without their line ending (\n or \r\n); the last line counts
 * even without one. Reads the stream itself rather than through readline, so that lines piped in all at
 * once are handed out one by one, never dropped.
 */
export async function* lines(stream: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let buffered = ''
  const take = (end: number) => {
    const line = buffered.slice(0, end)
    buffered = buffered.slice(end + 1)
    return line.endsWith('\r') ? line.slice(0, -1) : line
  }
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true })
    for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) yield take(end)
  }
  buffered += decoder.decode()
  if (buffered) yield take(buffered.length)
}
