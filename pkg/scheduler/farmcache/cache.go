package farmcache

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	corelisters "k8s.io/client-go/listers/core/v1"

	farmv1alpha1 "github.com/toinfn/farm/pkg/apis/farm/v1alpha1"
	"github.com/toinfn/farm/pkg/quota"
)

// Cache is safe for concurrent use: informer handlers write, scheduling cycles read.
type Cache struct {
	schedulerName string
	// pods lists the pods of a namespace when a Farm change may move their ownership.
	pods corelisters.PodLister

	mu sync.RWMutex
	// farms holds every Farm with its usage.
	farms map[types.NamespacedName]*entry
	// byNamespace lists the Farms of each namespace: ownership is decided among them.
	byNamespace map[string][]*farmv1alpha1.Farm
	// counted is, for each executor, the owner and the object last counted for it, so that an
	// update removes exactly what was added.
	counted map[types.UID]record
	// countedIn indexes counted by namespace, so a Farm change touches only its namespace.
	countedIn map[string]map[types.UID]struct{}
	// assumed holds the node the scheduler reserved for each pod whose binding the informer has
	// not shown yet. It is kept apart from counted so that it survives recounts and pods that no
	// Farm owns at the moment.
	assumed map[types.UID]string
	// onNode counts the assigned executors of each farm on each node, so that a score reads a
	// node's farms without visiting its pods, and without taking mu (see nodes.go).
	onNode *nodeIndex
	// nodesOf counts each farm's assigned executors by node, and leavingOf holds the node of each
	// of its executors that terminate, so that a reclaim finds the nodes worth planning on
	// without visiting every executor.
	nodesOf   map[types.NamespacedName]map[string]int32
	leavingOf map[types.NamespacedName]map[types.UID]string
	// nextSlot is the slot the next Farm gets unless freeSlots has one: slots number the Farms
	// densely, so that a set of farms is a small bitset.
	nextSlot  int32
	freeSlots []int32
}

type entry struct {
	farm  *farmv1alpha1.Farm
	usage quota.Usage
	slot  int32
}

type record struct {
	owner types.NamespacedName
	// slot is the owner's slot, kept here because the owner's entry is gone when a deleted Farm's
	// executors are uncounted.
	slot int32
	// pod is the object as counted: for an assumed pod, with the reserved node filled in.
	pod *corev1.Pod
}

// New returns an empty cache. schedulerName decides which pending pods make guaranteed demand;
// pods lists a namespace's pods when Farms change.
func New(schedulerName string, pods corelisters.PodLister) *Cache {
	return &Cache{
		schedulerName: schedulerName,
		pods:          pods,
		farms:         map[types.NamespacedName]*entry{},
		byNamespace:   map[string][]*farmv1alpha1.Farm{},
		counted:       map[types.UID]record{},
		countedIn:     map[string]map[types.UID]struct{}{},
		assumed:       map[types.UID]string{},
		onNode:        newNodeIndex(),
		nodesOf:       map[types.NamespacedName]map[string]int32{},
		leavingOf:     map[types.NamespacedName]map[types.UID]string{},
	}
}

// Farm is a Farm and its usage at one moment.
type Farm struct {
	Farm  *farmv1alpha1.Farm
	State quota.State
	// slot identifies the Farm in a FarmSet.
	slot int32
}

// OwnerOf returns the Farm that owns pod, with its current state; ok is false for a pod that
// belongs to no Farm.
func (c *Cache) OwnerOf(pod *corev1.Pod) (Farm, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	owner := quota.Owner(c.byNamespace[pod.Namespace], pod)
	if owner == nil {
		return Farm{}, false
	}
	return c.farmLocked(quota.Key(owner)), true
}

// Get returns a Farm by key.
func (c *Cache) Get(key types.NamespacedName) (Farm, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if _, ok := c.farms[key]; !ok {
		return Farm{}, false
	}
	return c.farmLocked(key), true
}

// OfType returns every Farm of a farm type, in no particular order.
func (c *Cache) OfType(t quota.Type) []Farm {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []Farm
	for k, e := range c.farms {
		if quota.TypeOf(e.farm) == t {
			out = append(out, c.farmLocked(k))
		}
	}
	return out
}

// InNamespace returns the Farms of a namespace, in no particular order.
func (c *Cache) InNamespace(namespace string) []Farm {
	c.mu.RLock()
	defer c.mu.RUnlock()
	farms := c.byNamespace[namespace]
	out := make([]Farm, 0, len(farms))
	for _, f := range farms {
		out = append(out, c.farmLocked(quota.Key(f)))
	}
	return out
}

func (c *Cache) farmLocked(key types.NamespacedName) Farm {
	e := c.farms[key]
	return Farm{Farm: e.farm, State: quota.State{Limits: quota.LimitsOf(e.farm), Usage: e.usage}, slot: e.slot}
}

// AddFarm records a new or changed Farm. A new Farm, a changed selector or a re-created Farm
// (new UID and creation time) may move pods between Farms, so the namespace is recounted; any
// other change (limits, status) costs no pod work.
func (c *Cache) AddFarm(farm *farmv1alpha1.Farm) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := quota.Key(farm)
	e, ok := c.farms[key]
	if ok && quota.TypeOf(e.farm) == quota.TypeOf(farm) && e.farm.UID == farm.UID && e.farm.CreationTimestamp.Equal(&farm.CreationTimestamp) {
		e.farm = farm
		c.setNamespaceFarmsLocked(farm.Namespace)
		return
	}
	if ok {
		e.farm = farm
	} else {
		c.farms[key] = &entry{farm: farm, slot: c.takeSlotLocked()}
	}
	c.setNamespaceFarmsLocked(farm.Namespace)
	c.recountNamespaceLocked(farm.Namespace)
}

// DeleteFarm forgets a Farm; its pods go to another Farm that selects them, or to none.
func (c *Cache) DeleteFarm(farm *farmv1alpha1.Farm) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := quota.Key(farm)
	e, ok := c.farms[key]
	if !ok {
		return
	}
	delete(c.farms, key)
	c.setNamespaceFarmsLocked(farm.Namespace)
	c.recountNamespaceLocked(farm.Namespace)
	// The recount uncounted every executor of the Farm: no node counts the slot any more.
	c.freeSlots = append(c.freeSlots, e.slot)
}

// takeSlotLocked numbers a new Farm, reusing a deleted Farm's slot first. A scoring cycle that
// built its FarmSet before the reuse may count the new Farm's executors for that cycle only: a
// score is a preference, and the next cycle is exact again.
func (c *Cache) takeSlotLocked() int32 {
	if n := len(c.freeSlots); n > 0 {
		slot := c.freeSlots[n-1]
		c.freeSlots = c.freeSlots[:n-1]
		return slot
	}
	c.nextSlot++
	return c.nextSlot - 1
}

func (c *Cache) setNamespaceFarmsLocked(namespace string) {
	var farms []*farmv1alpha1.Farm
	for _, e := range c.farms {
		if e.farm.Namespace == namespace {
			farms = append(farms, e.farm)
		}
	}
	if len(farms) == 0 {
		delete(c.byNamespace, namespace)
		return
	}
	c.byNamespace[namespace] = farms
}

// recountNamespaceLocked re-decides the owner of every pod of a namespace. It costs O(pods in the
// namespace) and runs only on Farm changes, which are rare.
func (c *Cache) recountNamespaceLocked(namespace string) {
	for uid := range c.countedIn[namespace] {
		c.uncountLocked(uid)
	}
	if len(c.byNamespace[namespace]) == 0 {
		return
	}
	pods, err := c.pods.Pods(namespace).List(labels.Everything())
	if err != nil {
		// A lister over a cache cannot fail; keep the namespace uncounted rather than half counted.
		return
	}
	for _, p := range pods {
		c.countLocked(p)
	}
}

// AddPod counts a new or changed pod. While the pod is assumed and the informer still shows it
// unbound (the binding is in flight), it keeps counting on the node it was reserved on.
func (c *Cache) AddPod(pod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if pod.Spec.NodeName != "" || quota.IsTerminating(pod) || quota.IsFinished(pod) {
		delete(c.assumed, pod.UID)
	}
	c.uncountLocked(pod.UID)
	c.countLocked(pod)
}

// AddPodIfPresent counts a pod as AddPod does, unless the informer no longer holds it (deleted,
// or replaced by a pod of the same name): a scheduling cycle may still carry a pod deleted during
// it (Spark deletes pending executors when dynamic allocation shrinks), and counting it again
// would leave demand that no pod makes. It reports whether the pod is counted.
func (c *Cache) AddPodIfPresent(pod *corev1.Pod) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	// The informer updates its store before it calls the handlers, and DeletePod waits for mu:
	// a pod found here is either counted by its later DeletePod or still there.
	current, err := c.pods.Pods(pod.Namespace).Get(pod.Name)
	if err != nil || current.UID != pod.UID {
		return false
	}
	if _, counted := c.counted[pod.UID]; !counted {
		c.countLocked(pod)
	}
	return true
}

// DeletePod stops counting a pod.
func (c *Cache) DeletePod(pod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.assumed, pod.UID)
	c.uncountLocked(pod.UID)
}

// Assume counts pod as assigned to nodeName from the moment the scheduler reserves the node, so
// that the next cycles see the farm's usage before the binding lands.
func (c *Cache) Assume(pod *corev1.Pod, nodeName string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.assumed[pod.UID] = nodeName
	c.uncountLocked(pod.UID)
	c.countLocked(pod)
}

// Forget undoes Assume when the reservation is dropped: the pod counts again as the informer last
// showed it.
func (c *Cache) Forget(pod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.assumed[pod.UID]; !ok {
		return
	}
	delete(c.assumed, pod.UID)
	c.uncountLocked(pod.UID)
	current, err := c.pods.Pods(pod.Namespace).Get(pod.Name)
	if err != nil || current.UID != pod.UID {
		return
	}
	c.countLocked(current)
}

// countLocked counts pod for the Farm that owns it, on its reserved node if it is assumed and
// still unbound.
func (c *Cache) countLocked(pod *corev1.Pod) {
	if node, ok := c.assumed[pod.UID]; ok && pod.Spec.NodeName == "" {
		bound := pod.DeepCopy()
		bound.Spec.NodeName = node
		pod = bound
	}
	owner := quota.Owner(c.byNamespace[pod.Namespace], pod)
	if owner == nil {
		return
	}
	key := quota.Key(owner)
	e := c.farms[key]
	e.usage.Add(pod, c.schedulerName)
	c.counted[pod.UID] = record{owner: key, slot: e.slot, pod: pod}
	inNamespace := c.countedIn[pod.Namespace]
	if inNamespace == nil {
		inNamespace = map[types.UID]struct{}{}
		c.countedIn[pod.Namespace] = inNamespace
	}
	inNamespace[pod.UID] = struct{}{}
	c.placeLocked(key, pod, 1)
}

// placeLocked counts (d = 1) or uncounts (d = -1) where a farm's executor sits: assigned on its
// node, or terminating there.
func (c *Cache) placeLocked(farm types.NamespacedName, pod *corev1.Pod, d int32) {
	switch {
	case quota.IsAssigned(pod):
		c.onNode.add(pod.Spec.NodeName, c.counted[pod.UID].slot, d)
		nodes := c.nodesOf[farm]
		if nodes == nil {
			nodes = map[string]int32{}
			c.nodesOf[farm] = nodes
		}
		if nodes[pod.Spec.NodeName] += d; nodes[pod.Spec.NodeName] <= 0 {
			delete(nodes, pod.Spec.NodeName)
			if len(nodes) == 0 {
				delete(c.nodesOf, farm)
			}
		}
	case pod.Spec.NodeName != "" && quota.IsTerminating(pod) && !quota.IsFinished(pod):
		leaving := c.leavingOf[farm]
		if leaving == nil {
			leaving = map[types.UID]string{}
			c.leavingOf[farm] = leaving
		}
		if d > 0 {
			leaving[pod.UID] = pod.Spec.NodeName
		} else if delete(leaving, pod.UID); len(leaving) == 0 {
			delete(c.leavingOf, farm)
		}
	}
}

func (c *Cache) uncountLocked(uid types.UID) {
	r, ok := c.counted[uid]
	if !ok {
		return
	}
	if e, ok := c.farms[r.owner]; ok {
		e.usage.Remove(r.pod, c.schedulerName)
	}
	c.placeLocked(r.owner, r.pod, -1)
	delete(c.counted, uid)
	if inNamespace := c.countedIn[r.pod.Namespace]; inNamespace != nil {
		delete(inNamespace, uid)
		if len(inNamespace) == 0 {
			delete(c.countedIn, r.pod.Namespace)
		}
	}
}

// OwnerKey returns the Farm the cache counts pod for, in O(1); ok is false for a pod it does not
// count (no Farm selects it, or the cache has not seen it yet).
func (c *Cache) OwnerKey(pod *corev1.Pod) (types.NamespacedName, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	r, ok := c.counted[pod.UID]
	return r.owner, ok
}

// AssignedOn counts the executors of the farms in set assigned to a node (bound or reserved, not
// leaving), in O(farms on the node), without a lock: Score calls it for every feasible node.
func (c *Cache) AssignedOn(node string, set FarmSet) int64 {
	return c.onNode.sum(node, set)
}

// Executors returns the pods the cache counts for a farm, as counted (an assumed pod carries its
// reserved node). It costs O(pods counted in the farm's namespace).
func (c *Cache) Executors(key types.NamespacedName) []*corev1.Pod {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []*corev1.Pod
	for uid := range c.countedIn[key.Namespace] {
		if r := c.counted[uid]; r.owner == key {
			out = append(out, r.pod)
		}
	}
	return out
}

// NodesOf calls visit for nodes holding assigned executors of a farm, with how many, in no
// particular order, until visit returns false. visit must not call the cache.
func (c *Cache) NodesOf(farm types.NamespacedName, visit func(node string, executors int32) bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for node, n := range c.nodesOf[farm] {
		if !visit(node, n) {
			return
		}
	}
}

// LeavingNodes returns the nodes where executors of the given farms terminate.
func (c *Cache) LeavingNodes(farms []types.NamespacedName) []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []string
	for _, f := range farms {
		for _, node := range c.leavingOf[f] {
			out = append(out, node)
		}
	}
	return out
}

// VisitExecutors calls visit for each pod the cache counts for the given farms, as counted,
// under one read lock and without copying: visit must be quick and must not call the cache.
// It costs O(pods counted in the farms' namespaces).
func (c *Cache) VisitExecutors(keys []types.NamespacedName, visit func(farm types.NamespacedName, pod *corev1.Pod)) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, key := range keys {
		for uid := range c.countedIn[key.Namespace] {
			if r := c.counted[uid]; r.owner == key {
				visit(key, r.pod)
			}
		}
	}
}

// Leaving reports whether the cache shows the pod on its way out: terminating, finished, or no
// longer counted (deleted).
func (c *Cache) Leaving(uid types.UID) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	r, ok := c.counted[uid]
	return !ok || quota.IsTerminating(r.pod) || quota.IsFinished(r.pod)
}

// All returns every Farm, in no particular order.
func (c *Cache) All() []Farm {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]Farm, 0, len(c.farms))
	for k := range c.farms {
		out = append(out, c.farmLocked(k))
	}
	return out
}

// Waiting reports whether the cache counts the pod as pending (not bound, not reserved, not
// leaving).
func (c *Cache) Waiting(uid types.UID) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	r, ok := c.counted[uid]
	return ok && quota.IsPending(r.pod)
}

// Terminating reports whether the cache shows the pod terminating.
func (c *Cache) Terminating(uid types.UID) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	r, ok := c.counted[uid]
	return ok && quota.IsTerminating(r.pod)
}
