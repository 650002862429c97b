package symbolize

import "container/list"

// lru is a map bounded by entry count and by a total cost; the least recently used entries go
// first. Not safe for concurrent use.
type lru[K comparable, V any] struct {
	maxEntries int
	maxCost    int64 // 0: no cost bound
	cost       func(V) int64
	ll         *list.List
	items      map[K]*list.Element
	total      int64
	evicted    int
}

type lruEntry[K comparable, V any] struct {
	key  K
	val  V
	cost int64
}

func newLRU[K comparable, V any](maxEntries int, maxCost int64, cost func(V) int64) *lru[K, V] {
	return &lru[K, V]{maxEntries: maxEntries, maxCost: maxCost, cost: cost, ll: list.New(), items: make(map[K]*list.Element)}
}

func (c *lru[K, V]) get(k K) (V, bool) {
	if e, ok := c.items[k]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*lruEntry[K, V]).val, true
	}
	var zero V
	return zero, false
}

// add inserts or replaces k, then evicts down to the bounds; the entry just added stays even
// when it alone exceeds maxCost.
func (c *lru[K, V]) add(k K, v V) {
	var cost int64
	if c.cost != nil {
		cost = c.cost(v)
	}
	if e, ok := c.items[k]; ok {
		ent := e.Value.(*lruEntry[K, V])
		c.total += cost - ent.cost
		ent.val, ent.cost = v, cost
		c.ll.MoveToFront(e)
	} else {
		c.items[k] = c.ll.PushFront(&lruEntry[K, V]{key: k, val: v, cost: cost})
		c.total += cost
	}
	for c.ll.Len() > 1 && (c.ll.Len() > c.maxEntries || c.maxCost > 0 && c.total > c.maxCost) {
		c.removeElement(c.ll.Back())
		c.evicted++
	}
}

func (c *lru[K, V]) remove(k K) {
	if e, ok := c.items[k]; ok {
		c.removeElement(e)
	}
}

func (c *lru[K, V]) removeElement(e *list.Element) {
	ent := e.Value.(*lruEntry[K, V])
	c.ll.Remove(e)
	delete(c.items, ent.key)
	c.total -= ent.cost
}

func (c *lru[K, V]) len() int { return c.ll.Len() }
