import { describe, expect, it } from 'bun:test'
import { apiUsage, parseApiArgs } from '../../src/cli/api-args.ts'
import { UsageError } from '../../src/cli/options.ts'
import { PRODUCE_OPTIONS, parseProduceArgs, produceHelp, produceUsage } from '../../src/cli/produce-args.ts'

describe('parseProduceArgs', () => {
  const good: Array<[string[], unknown]> = [
    [[], { mode: 'demo' }],
    [['--interactive'], { mode: 'interactive' }],
    [['--set', '3', '300.0'], { mode: 'set', clienteId: '3', saldo: 300 }],
    [['--set', 'é/ü', '-20.5'], { mode: 'set', clienteId: 'é/ü', saldo: -20.5 }],
    [['--set', '7', '1e3'], { mode: 'set', clienteId: '7', saldo: 1000 }],
    [['--delete', '3'], { mode: 'delete', clienteId: '3' }],
    [['--count', '1000'], { mode: 'bulk', count: 1000, keys: 1000, rate: undefined }],
    [['--count', '1000', '--keys', '10'], { mode: 'bulk', count: 1000, keys: 10, rate: undefined }],
    [['--rate', '50', '--count', '100'], { mode: 'bulk', count: 100, keys: 100, rate: 50 }],
    [['--create-topic'], { mode: 'create-topic' }],
    [['--credit', '7', '10.50'], { mode: 'movement', clienteId: '7', valor: 10.5, api: undefined }],
    [['--debit', '7', '3'], { mode: 'movement', clienteId: '7', valor: -3, api: undefined }],
    [
      ['--debit', '7', '0.01', '--api', 'http://saldo:5000/'],
      { mode: 'movement', clienteId: '7', valor: -0.01, api: 'http://saldo:5000' },
    ],
    [['--help'], { mode: 'help' }],
    [['--count', '--help'], { mode: 'help' }],
  ]
  for (const [argv, command] of good) {
    it(`reads ${JSON.stringify(argv)}`, () => {
      expect(parseProduceArgs(argv)).toEqual(command as ReturnType<typeof parseProduceArgs>)
    })
  }

  const bad: Array<[string[], string]> = [
    [['--bogus'], 'unknown argument "--bogus"'],
    [['3'], 'unknown argument "3"'],
    [['--set', '3'], '--set needs ID SALDO'],
    [['--set', '3', '--interactive'], '--set needs ID SALDO'],
    [['--set', '3', 'abc'], 'saldo "abc" is not a finite number'],
    [['--set', '3', '150,5'], 'use a dot for decimals'],
    [['--set', '3', 'Infinity'], 'is not a finite number'],
    [['--set', '3', '1e999'], 'is not a finite number'],
    [['--set', '3', '0x10'], 'is not a finite number'],
    [['--set', '', '1'], 'cliente_id is empty'],
    [['--set', 'a\tb', '1'], 'cliente_id contains control characters'],
    [['--set', 'x'.repeat(129), '1'], 'longer than 128 bytes'],
    [['--delete'], '--delete needs ID'],
    [['--count', '0'], '--count "0" is not a whole number of at least 1'],
    [['--count', '1.5'], '--count "1.5" is not a whole number'],
    [['--count', '10', '--keys', '-1'], '--keys "-1" is not a whole number'],
    [['--count', '10', '--rate', 'fast'], '--rate "fast" is not a whole number'],
    [['--keys', '10'], '--keys only goes with --count'],
    [['--rate', '10', '--set', '1', '2'], '--rate only goes with --count'],
    [['--set', '1', '2', '--delete', '1'], 'choose one of --set, --delete'],
    [['--interactive', '--interactive'], '--interactive is given twice'],
    [['--credit', '7'], '--credit needs ID VALOR'],
    [['--credit', '7', '-5'], 'valor -5 is not above 0; the option says credit or debit'],
    [['--debit', '7', '0'], 'valor 0 is not above 0'],
    [['--debit', '7', '1.005'], 'more than 2 decimal places'],
    [['--debit', '7', '10,5'], 'valor "10,5" is not a finite number (use a dot for decimals: 150.5)'],
    [['--credit', '', '5'], 'cliente_id is empty'],
    [['--credit', '7', '5', '--debit', '7', '5'], 'choose one of --credit, --debit'],
    [['--api', 'http://x', '--set', '1', '2'], '--api only goes with --credit or --debit'],
    [['--credit', '7', '5', '--api', 'saldo:5000'], '--api "saldo:5000" is not an http:// or https:// URL'],
  ]
  for (const [argv, message] of bad) {
    it(`refuses ${JSON.stringify(argv)}: ${message}`, () => {
      expect(() => parseProduceArgs(argv)).toThrow(UsageError)
      expect(() => parseProduceArgs(argv)).toThrow(message)
    })
  }
})

describe('saldo-produce usage', () => {
  it('documents every option of the table', () => {
    for (const [flag, spec] of Object.entries(PRODUCE_OPTIONS)) {
      expect(produceUsage()).toContain([flag, ...spec.params].join(' '))
    }
  })

  it('lists the connection settings in --help, not the HTTP ones', () => {
    expect(produceHelp()).toContain('BOOTSTRAP_SERVERS')
    expect(produceHelp()).toContain('default: contas')
    expect(produceHelp()).not.toContain('PORT')
  })
})

describe('parseApiArgs', () => {
  it('takes --help or nothing', () => {
    expect(parseApiArgs([])).toEqual({ help: false })
    expect(parseApiArgs(['--help'])).toEqual({ help: true })
  })

  it('refuses anything else', () => {
    expect(() => parseApiArgs(['--port', '80'])).toThrow('unknown argument "--port"')
    expect(apiUsage()).toContain('usage: saldo-api [--help]')
  })
})
