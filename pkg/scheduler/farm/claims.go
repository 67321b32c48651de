package farm

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// claims remembers the node each waiting pod was nominated to by a reclaim, from the moment
// PostFilter nominates it. The pod's status shows the nomination only once the API write lands,
// and the next cycle's plan must already see that the room made there is that pod's, as the
// filters (which read the scheduler's own nominator) do.
type claims struct {
	// waiting reports whether the pod still waits for a node.
	waiting func(pod types.NamespacedName, uid types.UID) bool

	mu    sync.Mutex
	byUID map[types.UID]claim
}

type claim struct {
	node string
	pod  types.NamespacedName
}

func newClaims(waiting func(types.NamespacedName, types.UID) bool) *claims {
	return &claims{waiting: waiting, byUID: map[types.UID]claim{}}
}

// set records the waiting pod's node, or forgets it for "".
func (c *claims) set(pod *corev1.Pod, node string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if node == "" {
		delete(c.byUID, pod.UID)
		return
	}
	c.byUID[pod.UID] = claim{node: node, pod: types.NamespacedName{Namespace: pod.Namespace, Name: pod.Name}}
}

// snapshot returns every claim.
func (c *claims) snapshot() map[types.UID]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[types.UID]string, len(c.byUID))
	for uid, cl := range c.byUID {
		out[uid] = cl.node
	}
	return out
}

// prune forgets the claims of pods no longer waiting (bound, or gone).
func (c *claims) prune() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for uid, cl := range c.byUID {
		if !c.waiting(cl.pod, uid) {
			delete(c.byUID, uid)
		}
	}
}
