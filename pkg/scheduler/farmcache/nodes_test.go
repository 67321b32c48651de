package farmcache

import (
	"fmt"
	"testing"
)

// indexOp changes a farm's count on a node.
type indexOp struct {
	node        string
	slot, delta int32
}

func TestNodeIndex(t *testing.T) {
	all := func(slots ...int32) FarmSet {
		var s FarmSet
		for _, slot := range slots {
			s.Add(Farm{slot: slot})
		}
		return s
	}
	tests := []struct {
		name string
		ops  []indexOp
		set  FarmSet
		want map[string]int64
	}{
		{
			name: "counts per farm and node",
			ops:  []indexOp{{"n1", 0, 1}, {"n1", 0, 1}, {"n1", 70, 1}, {"n2", 3, 1}},
			set:  all(0, 70),
			want: map[string]int64{"n1": 3, "n2": 0, "n3": 0},
		},
		{
			name: "a count falls back to zero",
			ops:  []indexOp{{"n1", 1, 1}, {"n1", 1, -1}, {"n2", 1, 1}},
			set:  all(1),
			want: map[string]int64{"n1": 0, "n2": 1},
		},
		{
			name: "removing from an empty node changes nothing",
			ops:  []indexOp{{"n1", 1, -1}},
			set:  all(1),
			want: map[string]int64{"n1": 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newNodeIndex()
			for _, op := range tt.ops {
				x.add(op.node, op.slot, op.delta)
			}
			for node, want := range tt.want {
				if got := x.sum(node, tt.set); got != want {
					t.Errorf("sum(%s) = %d, want %d", node, got, want)
				}
			}
		})
	}
}

// Nodes that hold nothing leave the index when their shard is next rewritten, so the entries of
// deleted nodes do not pile up.
func TestNodeIndexForgetsEmptyNodes(t *testing.T) {
	x := newNodeIndex()
	const nodes = 10 * nodeShards
	for i := range nodes {
		x.add(fmt.Sprintf("old-%d", i), 0, 1)
		x.add(fmt.Sprintf("old-%d", i), 0, -1)
	}
	for i := range nodes {
		x.add(fmt.Sprintf("new-%d", i), 0, 1)
	}
	total := 0
	for i := range x.shards {
		if m := x.shards[i].Load(); m != nil {
			total += len(*m)
		}
	}
	// Each shard may keep the empty nodes added after its last rewrite: at most one here, as
	// every new node rewrites its shard.
	if total > nodes+nodeShards {
		t.Errorf("index holds %d nodes, want at most %d: empty nodes are not dropped", total, nodes+nodeShards)
	}
	var set FarmSet
	set.Add(Farm{slot: 0})
	for i := range nodes {
		if got := x.sum(fmt.Sprintf("new-%d", i), set); got != 1 {
			t.Fatalf("sum(new-%d) = %d, want 1", i, got)
		}
	}
}

func TestFarmSet(t *testing.T) {
	var s FarmSet
	for _, slot := range []int32{0, 63, 64, 200} {
		s.Add(Farm{slot: slot})
	}
	for _, slot := range []int32{0, 63, 64, 200} {
		if !s.has(slot) {
			t.Errorf("set lacks slot %d", slot)
		}
	}
	for _, slot := range []int32{1, 62, 65, 199, 201, 1000} {
		if s.has(slot) {
			t.Errorf("set has slot %d, never added", slot)
		}
	}
}
