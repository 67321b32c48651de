package reclaim

import (
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// The one dialect of builders for this package's tests: a problem in CPU (milli) and pods, built
// node by node; farms named "ns/name"; waiting executors that may use every node unless told.

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type problemBuilder struct{ pr Problem }

func newProblem() *problemBuilder {
	return &problemBuilder{pr: Problem{Dimensions: []string{"cpu", "pods"}, Farms: map[types.NamespacedName]Farm{}}}
}

func key(s string) types.NamespacedName {
	ns, name, _ := strings.Cut(s, "/")
	return types.NamespacedName{Namespace: ns, Name: name}
}

// cpu is an amount of CPU, in cores, as the problem's Resources (one pod).
func cpu(cores float64) Resources { return Resources{int64(cores * 1000), 1} }

// node adds a node with freeCores free (and room for any number of pods) and its victims.
func (b *problemBuilder) node(name string, freeCores float64, victims ...Victim) *problemBuilder {
	b.pr.Nodes = append(b.pr.Nodes, Node{Name: name, Room: Resources{int64(freeCores * 1000), 100}, Victims: victims})
	return b
}

// leavingNode marks the last node as one executors already leave.
func (b *problemBuilder) leavingNode() *problemBuilder {
	b.pr.Nodes[len(b.pr.Nodes)-1].Leaving = true
	return b
}

func (b *problemBuilder) farm(name string, overquota, leaving int32) *problemBuilder {
	b.pr.Farms[key(name)] = Farm{Overquota: overquota, Leaving: leaving}
	return b
}

// budget adds a PodDisruptionBudget allowing n more disruptions; victims refer to it by order.
func (b *problemBuilder) budget(n int32) *problemBuilder {
	b.pr.Budgets = append(b.pr.Budgets, n)
	return b
}

// waiting adds a waiting executor of cores CPU; with nodes, it may use only those (by index).
func (b *problemBuilder) waiting(id string, cores float64, nodes ...int) *problemBuilder {
	if len(nodes) == 0 {
		for i := range b.pr.Nodes {
			nodes = append(nodes, i)
		}
	}
	b.pr.Waiting = append(b.pr.Waiting, Waiting{ID: id, Request: cpu(cores), Nodes: nodes, Nominated: -1})
	return b
}

// nominated nominates the last waiting executor to node n.
func (b *problemBuilder) nominated(n int) *problemBuilder {
	b.pr.Waiting[len(b.pr.Waiting)-1].Nominated = n
	return b
}

func (b *problemBuilder) obj() *Problem { return &b.pr }

// victimBuilder is a victim of a farm.
type victimBuilder struct{ v Victim }

func victim(id, farm string, cores float64) *victimBuilder {
	return &victimBuilder{v: Victim{ID: id, Farm: key(farm), Request: cpu(cores), Started: t0}}
}

func (b *victimBuilder) priority(p int32) *victimBuilder { b.v.Priority = p; return b }

// startedAfter makes the victim younger by d.
func (b *victimBuilder) startedAfter(d time.Duration) *victimBuilder {
	b.v.Started = t0.Add(d)
	return b
}

func (b *victimBuilder) budgets(i ...int) *victimBuilder { b.v.Budgets = i; return b }

func (b *victimBuilder) obj() Victim { return b.v }

// full returns n victims of a farm of cores CPU each, named prefix-0...
func full(prefix, farm string, n int, cores float64) []Victim {
	out := make([]Victim, n)
	for i := range out {
		out[i] = victim(prefix+"-"+string(rune('a'+i)), farm, cores).obj()
	}
	return out
}
