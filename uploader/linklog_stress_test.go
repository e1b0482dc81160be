package uploader

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Readers (store.read), Batch writers whose commits grow the file (remaps),
// folds and addItems together: no deadlock.
func TestStressRemap(t *testing.T) {
	dir := t.TempDir()
	st, err := openStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	big := strings.Repeat("r", 48<<10)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var ops atomic.Int64
	run := func(f func(i int)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				f(i)
				ops.Add(1)
			}
		}()
	}
	for w := range 3 { // putItem through db.Batch, growing the file
		run(func(i int) {
			it := Item{ID: ItemID(100000 + w*100000 + i), Path: "/x/big", Reason: big, State: StateFailed}
			st.putItem(&it)
		})
	}
	for range 3 {
		run(func(int) { st.items() })
		run(func(int) { st.history(50) })
	}
	run(func(i int) { // links, folds, conflicting writes
		outs := finishedOutcomes(t, st, 3, fmt.Sprintf("s%d-", i))
		st.finishMany(outs)
		if i%3 == 0 {
			st.deleteRecord(outs[0].record)
		} else {
			st.fold()
		}
		it := &Item{Path: outs[1].it.Path, Size: outs[1].it.Size, ModTime: outs[1].it.ModTime}
		st.addItems([]*Item{it}, []bool{false})
	})
	time.AfterFunc(2*time.Second, func() { stop.Store(true) })
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		buf := make([]byte, 4<<20)
		t.Logf("%s", buf[:runtime.Stack(buf, true)])
		t.Fatal("deadlock")
	}
	var sz int64
	st.db.View(func(tx *bolt.Tx) error { sz = tx.Size(); return nil })
	t.Logf("%d ops, db %d MiB", ops.Load(), sz>>20)
}
