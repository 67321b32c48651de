package farmcache

import (
	"hash/maphash"
	"slices"
	"sync/atomic"
)

// The elastic quota scorer asks, for every feasible node of every borrowing pod and in parallel,
// how many executors of a set of farms the node holds. At 2,000 nodes that is hundreds of
// thousands of questions a second, so answering one takes no lock and writes no shared memory:
// nodes are found through immutable shard maps, each node's counts are an immutable slice, and
// farms are small integers (slots) so that a set of farms is a bitset. Writers, who already hold
// the cache's lock, publish new copies.

// nodeShards spreads nodes over this many maps, so that a node new to the index copies only
// 1/nodeShards of them.
const nodeShards = 64

// nodeIndex finds a node's executor counts by the node's name.
type nodeIndex struct {
	seed   maphash.Seed
	shards [nodeShards]atomic.Pointer[map[string]*nodeCounts]
}

// nodeCounts holds the assigned executors of each farm on one node.
type nodeCounts struct {
	counts atomic.Pointer[[]slotCount]
}

// slotCount is the number of executors of the farm in slot on a node.
type slotCount struct {
	slot  int32
	count int32
}

func newNodeIndex() *nodeIndex {
	return &nodeIndex{seed: maphash.MakeSeed()}
}

func (x *nodeIndex) shard(node string) *atomic.Pointer[map[string]*nodeCounts] {
	return &x.shards[maphash.String(x.seed, node)%nodeShards]
}

// get returns a node's counts, or nil when it holds no executors. Safe without any lock.
func (x *nodeIndex) get(node string) *nodeCounts {
	m := x.shard(node).Load()
	if m == nil {
		return nil
	}
	return (*m)[node]
}

// add changes the count of the farm in slot on node by delta. Callers serialize writes (the
// cache's lock). A node whose counts fall to zero keeps its entry until its shard is next
// rewritten: a node that goes back and forth between zero and one executor does not copy its
// shard every time, and entries of deleted nodes still do not pile up.
func (x *nodeIndex) add(node string, slot, delta int32) {
	n := x.get(node)
	if n == nil {
		if delta <= 0 {
			return
		}
		n = &nodeCounts{}
		x.insert(node, n)
	}
	var old []slotCount
	if p := n.counts.Load(); p != nil {
		old = *p
	}
	updated := make([]slotCount, 0, len(old)+1)
	found := false
	for _, sc := range old {
		if sc.slot == slot {
			sc.count += delta
			found = true
		}
		if sc.count > 0 {
			updated = append(updated, sc)
		}
	}
	if !found && delta > 0 {
		updated = append(updated, slotCount{slot: slot, count: delta})
	}
	n.counts.Store(&updated)
}

// insert publishes a copy of node's shard with n added and the nodes that hold nothing dropped.
func (x *nodeIndex) insert(node string, n *nodeCounts) {
	shard := x.shard(node)
	var current map[string]*nodeCounts
	if m := shard.Load(); m != nil {
		current = *m
	}
	next := make(map[string]*nodeCounts, len(current)+1)
	for name, c := range current {
		if p := c.counts.Load(); p != nil && len(*p) > 0 {
			next[name] = c
		}
	}
	next[node] = n
	shard.Store(&next)
}

// sum adds up the counts of the farms in set on node.
func (x *nodeIndex) sum(node string, set FarmSet) int64 {
	n := x.get(node)
	if n == nil {
		return 0
	}
	p := n.counts.Load()
	if p == nil {
		return 0
	}
	var total int64
	for _, sc := range *p {
		if set.has(sc.slot) {
			total += int64(sc.count)
		}
	}
	return total
}

// FarmSet is a set of farms for AssignedOn. The zero value is empty; it is not safe for
// concurrent writes, and is meant to be built once and then read.
type FarmSet struct {
	words []uint64
}

// Add puts f in the set.
func (s *FarmSet) Add(f Farm) {
	word := int(f.slot / 64)
	if word >= len(s.words) {
		s.words = slices.Grow(s.words, word+1-len(s.words))[:word+1]
	}
	s.words[word] |= 1 << (f.slot % 64)
}

func (s FarmSet) has(slot int32) bool {
	word := int(slot / 64)
	return word < len(s.words) && s.words[word]&(1<<(slot%64)) != 0
}
