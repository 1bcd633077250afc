import type { Balance } from '../balance.ts'
import type { BalanceStore } from '../store/store.ts'
import type { BalancesBody } from './models.ts'

/** The answer of /saldos from one store: the balances it has, and the ids it has none for. */
export function readBalances(store: Pick<BalanceStore, 'get'>, ids: readonly string[]): BalancesBody {
  const balances: Balance[] = []
  const missing: string[] = []
  for (const id of ids) {
    const balance = store.get(id)
    if (balance) balances.push(balance)
    else missing.push(id)
  }
  return { balances, missing }
}
