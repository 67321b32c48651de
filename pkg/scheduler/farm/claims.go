package farm

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"

	"github.com/toinfn/farm/pkg/scheduler/farmcache"
)

// claims remembers the node each waiting pod was nominated to by a reclaim, from the moment
// PostFilter nominates it. The pod's status shows the nomination only once the API write lands,
// and the next cycle's plan must already see that the room made there is that pod's, as the
// filters (which read the scheduler's own nominator) do.
type claims struct {
	farms *farmcache.Cache

	mu    sync.Mutex
	byUID map[types.UID]string
}

func newClaims(farms *farmcache.Cache) *claims {
	return &claims{farms: farms, byUID: map[types.UID]string{}}
}

// set records the waiting pod's node, or forgets it for "".
func (c *claims) set(pod types.UID, node string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if node == "" {
		delete(c.byUID, pod)
		return
	}
	c.byUID[pod] = node
}

// snapshot returns every claim.
func (c *claims) snapshot() map[types.UID]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[types.UID]string, len(c.byUID))
	for uid, node := range c.byUID {
		out[uid] = node
	}
	return out
}

// prune forgets the claims of pods no longer waiting (bound, or gone).
func (c *claims) prune() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for uid := range c.byUID {
		if !c.farms.Waiting(uid) {
			delete(c.byUID, uid)
		}
	}
}
