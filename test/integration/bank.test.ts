import { describe } from 'bun:test'
import { bankCheck } from '../bank-check.ts'
import { createTopic, seededIt as it } from '../helpers.ts'

describe('the bank check', () => {
  // Partitioned: each instance holds only its partitions and their standbys, reads are routed too.
  for (const mode of ['replica', 'partitioned'] as const) {
    it(`keeps every balance a chain of its movements, with instances killed under load (MODE=${mode})`, async () => {
      await bankCheck({ topic: await createTopic({ partitions: 6 }), mode })
    }, 180_000)
  }
})
