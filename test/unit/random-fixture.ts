// Run by random.test.ts as a test file of its own (its name keeps `bun test test/unit` from running it).
import { expect } from 'bun:test'
import { seededIt as it, random, randomInt } from '../random.ts'

it('draws', () => {
  console.log(`first ${random()} ${randomInt(1000)}`)
})

it('draws again', () => {
  console.log(`second ${random()}`)
})

it('fails when asked to', () => {
  random()
  expect(process.env.RANDOM_FIXTURE).not.toBe('fail')
})

it('times out when asked to', async () => {
  random()
  if (process.env.RANDOM_FIXTURE === 'timeout') await Bun.sleep(1_000)
}, 100)
