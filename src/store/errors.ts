/** STATE_DIR cannot be used: in use by another process, not writable, and so on. The message says what to do. */
export class StateDirError extends Error {
  override readonly name = 'StateDirError'
}
