package farm

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
)

// Victim pods go away with their events; what a reclaim did is told on the Farms themselves, once
// per trigger interval: events ("Reclaimed 3 executors for bob/bob") and the status records
// lastReclaimedFrom and lastReclaimedFor. What blocks a reclaim (ReclaimBlocked, RoomTaken) is
// told as it happens, in notes that name no pod, so that repeats count as one series per farm.

// reclaimReports collects the evictions made since the last flush.
type reclaimReports struct {
	mu sync.Mutex
	// took counts evictions by victim farm, then by the farm they were made for.
	took map[types.NamespacedName]map[types.NamespacedName]int32
	// lost is when each farm last lost an executor to a reclaim of this replica.
	lost map[types.NamespacedName]time.Time
}

func newReclaimReports() *reclaimReports {
	return &reclaimReports{took: map[types.NamespacedName]map[types.NamespacedName]int32{}, lost: map[types.NamespacedName]time.Time{}}
}

// add records one eviction from victim's farm for forFarm's guarantee.
func (r *reclaimReports) add(victim, forFarm types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lost[victim] = time.Now()
	if r.took[victim] == nil {
		r.took[victim] = map[types.NamespacedName]int32{}
	}
	r.took[victim][forFarm]++
}

// lastTaken returns when the farm last lost an executor to a reclaim of this replica.
func (r *reclaimReports) lastTaken(farm types.NamespacedName) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lost[farm]
}

// flush returns the evictions recorded since the last flush and forgets them.
func (r *reclaimReports) flush() map[types.NamespacedName]map[types.NamespacedName]int32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.took
	r.took = map[types.NamespacedName]map[types.NamespacedName]int32{}
	return out
}

// reclaimRecords turns one interval's evictions into each farm's records: for a farm that lost
// executors, how many and for whom; for a farm they were taken for, how many and from whom.
func reclaimRecords(took map[types.NamespacedName]map[types.NamespacedName]int32, now metav1.Time) (from, forFarm map[types.NamespacedName]*farmv1alpha1.ReclaimRecord) {
	from = map[types.NamespacedName]*farmv1alpha1.ReclaimRecord{}
	gained := map[types.NamespacedName]map[types.NamespacedName]int32{}
	for victim, byFarm := range took {
		from[victim] = record(now, byFarm, "for")
		for f, n := range byFarm {
			if gained[f] == nil {
				gained[f] = map[types.NamespacedName]int32{}
			}
			gained[f][victim] += n
		}
	}
	forFarm = map[types.NamespacedName]*farmv1alpha1.ReclaimRecord{}
	for f, byVictim := range gained {
		forFarm[f] = record(now, byVictim, "from")
	}
	return from, forFarm
}

// record sums counts by farm into a record; preposition says which side the farms are on.
func record(now metav1.Time, counts map[types.NamespacedName]int32, preposition string) *farmv1alpha1.ReclaimRecord {
	r := &farmv1alpha1.ReclaimRecord{Time: now}
	for f, n := range counts {
		r.Executors += n
		r.Farms = append(r.Farms, f.String())
	}
	sort.Strings(r.Farms)
	parts := make([]string, len(r.Farms))
	for i, name := range r.Farms {
		parts[i] = name
		if len(r.Farms) > 1 {
			ns, n, _ := strings.Cut(name, "/")
			parts[i] = fmt.Sprintf("%s (%d)", name, counts[types.NamespacedName{Namespace: ns, Name: n}])
		}
	}
	noun := "executors"
	if r.Executors == 1 {
		noun = "executor"
	}
	r.Summary = fmt.Sprintf("%d %s %s %s", r.Executors, noun, preposition, strings.Join(parts, ", "))
	return r
}

// farmEvent records an event on a Farm (events.k8s.io), which outlives the pods it is about.
func (p *Plugin) farmEvent(key types.NamespacedName, eventType, reason, note string) {
	f, ok := p.farms.Get(key)
	if !ok {
		return
	}
	p.handle.EventRecorder().Eventf(farmObject(f.Farm), nil, eventType, reason, "Reclaiming", note)
}

// farmObject is the Farm as an event's regarding object: with its kind, which the scheduler's
// scheme does not know.
func farmObject(f *farmv1alpha1.Farm) runtime.Object {
	ref := &farmv1alpha1.Farm{ObjectMeta: f.ObjectMeta}
	ref.APIVersion, ref.Kind = farmv1alpha1.GroupVersion.String(), "Farm"
	return ref
}

// guaranteedBy returns the farm whose guarantee a waiting pod is: its own, or, for a driver, the
// farm it starts.
func (p *Plugin) guaranteedBy(pod *corev1.Pod) (types.NamespacedName, bool) {
	if key, ok := p.farms.OwnerKey(pod); ok {
		return key, true
	}
	d, ok := p.driverSelector(pod)
	if !ok {
		return types.NamespacedName{}, false
	}
	f, ok := driverFarm(p.farms.InNamespace(pod.Namespace), d)
	if !ok {
		return types.NamespacedName{}, false
	}
	return types.NamespacedName{Namespace: f.Farm.Namespace, Name: f.Farm.Name}, true
}
