package node

import (
	"github.com/pilot-agents/pilot/node/logkey"
	"github.com/pilot-agents/pilot/node/task"
	"github.com/pilot-agents/pilot/reputation"
)

// attestOwed issues the attestations a crash left owed. The requester
// stores a task's terminal state with the worker's receipt, answers the
// worker, and only then attests it (taskFinished): a daemon killed in
// between holds a finished task with a receipt and no attestation, and the
// worker, answered, never sends the update again. At start, every such
// task is attested now; the store's task key tells which are done.
func (n *Node) attestOwed() {
	ts, err := n.tasks.List(task.ListFilter{Role: task.RoleRequester})
	if err != nil {
		log.Warnw("finished tasks to attest", logkey.Err, err)
		return
	}
	for _, t := range ts {
		if !t.State.Terminal() || len(t.Receipt) == 0 {
			continue
		}
		r, err := reputation.UnmarshalReceipt(t.Receipt)
		if err != nil || r.Requester != n.id {
			continue // taskFinished refused it already
		}
		done, err := n.polo.store.Attested(n.id, r.Worker, r.TaskHash)
		if err != nil {
			log.Warnw("finished tasks to attest", logkey.Err, err)
			return
		}
		if done {
			continue
		}
		full, err := n.tasks.Get(t.ID)
		if err != nil {
			log.Warnw("finished task to attest", logkey.Task, t.ID, logkey.Err, err)
			continue
		}
		log.Infow("attesting a task finished before a restart", logkey.Task, t.ID)
		n.taskFinished(full)
	}
}
