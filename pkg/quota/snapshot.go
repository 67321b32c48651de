package quota

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// Snapshot is the state of a set of Farms over a set of pods: each pod counted once, for the Farm
// that owns it.
type Snapshot struct {
	farms     map[types.NamespacedName]*farmv1alpha1.Farm
	states    map[types.NamespacedName]State
	conflicts map[types.NamespacedName]types.NamespacedName
}

// NewSnapshot counts pods against farms. Pods no Farm selects are ignored. schedulerName decides
// which pending pods can make guaranteed demand.
func NewSnapshot(farms []*farmv1alpha1.Farm, pods []*corev1.Pod, schedulerName string) *Snapshot {
	s := &Snapshot{
		farms:     make(map[types.NamespacedName]*farmv1alpha1.Farm, len(farms)),
		states:    make(map[types.NamespacedName]State, len(farms)),
		conflicts: map[types.NamespacedName]types.NamespacedName{},
	}
	byNamespace := map[string][]*farmv1alpha1.Farm{}
	for _, f := range farms {
		k := Key(f)
		s.farms[k] = f
		s.states[k] = State{Limits: LimitsOf(f)}
		byNamespace[f.Namespace] = append(byNamespace[f.Namespace], f)
	}
	for _, nsFarms := range byNamespace {
		for _, f := range nsFarms {
			for _, g := range nsFarms {
				if f != g && SameSelector(f, g) && Older(g, f) {
					s.markConflict(Key(f), Key(g))
				}
			}
		}
	}
	for _, p := range pods {
		nsFarms := byNamespace[p.Namespace]
		owner := Owner(nsFarms, p)
		if owner == nil {
			continue
		}
		ok := Key(owner)
		st := s.states[ok]
		st.Add(p, schedulerName)
		s.states[ok] = st
		for _, f := range nsFarms {
			if f != owner && Selects(f, p) {
				s.markConflict(Key(f), ok)
			}
		}
	}
	return s
}

// markConflict records that farm selects pods owned by owner, keeping the oldest such owner so
// the result does not depend on pod order.
func (s *Snapshot) markConflict(farm, owner types.NamespacedName) {
	if prev, ok := s.conflicts[farm]; ok && Older(s.farms[prev], s.farms[owner]) {
		return
	}
	s.conflicts[farm] = owner
}

// State returns the counted state of a Farm and whether the snapshot knows it.
func (s *Snapshot) State(farm types.NamespacedName) (State, bool) {
	st, ok := s.states[farm]
	return st, ok
}

// ConflictsWith returns the older Farm that owns pods this Farm selects, if any.
func (s *Snapshot) ConflictsWith(farm types.NamespacedName) (types.NamespacedName, bool) {
	o, ok := s.conflicts[farm]
	return o, ok
}

// Keys returns the Farms of the snapshot, sorted by namespace, then name.
func (s *Snapshot) Keys() []types.NamespacedName {
	keys := make([]types.NamespacedName, 0, len(s.farms))
	for k := range s.farms {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Namespace != keys[j].Namespace {
			return keys[i].Namespace < keys[j].Namespace
		}
		return keys[i].Name < keys[j].Name
	})
	return keys
}

// OfType returns the Farms of one farm type, sorted.
func (s *Snapshot) OfType(t Type) []types.NamespacedName {
	var keys []types.NamespacedName
	for _, k := range s.Keys() {
		if TypeOf(s.farms[k]) == t {
			keys = append(keys, k)
		}
	}
	return keys
}
