package uploader

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

// addItems re-queueing a file whose link is still in the log, against a
// fold: the fold takes the log's lock, then bbolt's writer lock, so addItems
// must never take the log's lock inside its write (it once did: ABBA
// deadlock).
func TestAddItemsFoldDeadlock(t *testing.T) {
	dir := t.TempDir()
	st, err := openStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		outs := finishedOutcomes(t, st, 1, fmt.Sprintf("r%d-", i))
		if err := st.finishMany(outs); err != nil {
			t.Fatal(err)
		}
		// Hold bbolt's writer lock so both contenders queue behind it.
		tx, err := st.db.Begin(true)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{}, 2)
		go func() { // the watcher sees the finished file again
			it := &Item{Path: outs[0].it.Path, Size: outs[0].it.Size, ModTime: outs[0].it.ModTime}
			st.addItems([]*Item{it}, []bool{false})
			done <- struct{}{}
		}()
		go func() { st.fold(); done <- struct{}{} }() // the committer's idle fold
		for st.log.mu.TryLock() {                     // wait until the fold holds log.mu
			st.log.mu.Unlock()
			time.Sleep(time.Millisecond)
		}
		tx.Rollback()
		for range 2 {
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Logf("%s", buf)
				t.Fatalf("iteration %d: addItems and fold deadlocked (bbolt writer lock vs linkLog.mu)", i)
			}
		}
	}
	st.close()
}

// history() reads the log's pending entries and the database at one moment:
// a fold in between must not show the same entries twice.
func TestHistoryDuplicatesDuringFold(t *testing.T) {
	dir := t.TempDir()
	st, err := openStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			its := []*Item{{Path: fmt.Sprintf("/x/h%d", i), State: StateQueued}}
			st.addItems(its, []bool{true})
			done := *its[0]
			done.State = StateDone
			st.finishMany([]outcome{{it: done, history: &HistoryEntry{Name: "h", Item: done.ID}}})
			st.fold()
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	deadline := time.Now().Add(2 * time.Second)
	errc := make(chan error, 8)
	for range 8 {
		go func() {
			for time.Now().Before(deadline) {
				h, _ := st.history(0)
				seen := map[uint64]bool{}
				for _, e := range h {
					if seen[e.ID] {
						errc <- fmt.Errorf("history lists entry %d twice (read across a fold)", e.ID)
						return
					}
					seen[e.ID] = true
				}
			}
			errc <- nil
		}()
	}
	for range 8 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

// items() reads the database and the log at one moment: a fold committed
// in between must not leave a finished item reported as queued.
func TestItemsMissFoldedRecord(t *testing.T) {
	dir := t.TempDir()
	st, err := openStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	deadline := time.Now().Add(2 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		its := []*Item{{Path: fmt.Sprintf("/x/i%d", i), State: StateQueued}}
		if _, err := st.addItems(its, []bool{true}); err != nil {
			t.Fatal(err)
		}
		done := *its[0]
		done.State = StateDone
		if err := st.finishMany([]outcome{{it: done}}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); st.fold() }()
		all, err := st.items()
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range all {
			if it.ID == done.ID && it.State != StateDone {
				t.Fatalf("item %d finished (finishMany returned) but items() says %s", it.ID, it.State)
			}
		}
	}
}

// Finished items behind a long-lived failed one leave e.order too: it must
// not grow by one per upload for the life of the process, with every pick
// scanning it.
func TestOrderGrowsBehindFailedItem(t *testing.T) {
	e := &Engine{items: map[ItemID]*Item{}, running: map[ItemID]context.CancelCauseFunc{}}
	now := time.Now()
	e.putLocked(&Item{ID: 1, State: StateFailed}) // permanent failure, kept for the user
	for id := ItemID(2); id < 10002; id++ {
		e.putLocked(&Item{ID: id, State: StateQueued})
		it := e.pickLocked(now)
		if it == nil || it.ID != id {
			t.Fatalf("picked %v, want %d", it, id)
		}
		delete(e.items, id) // uploaded
	}
	if len(e.order) > 100 {
		t.Fatalf("e.order holds %d IDs for %d items in the queue", len(e.order), len(e.items))
	}
}
