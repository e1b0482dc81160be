//go:build linux

package uploader

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A page of the mapping the file system cannot back (here: past the end of
// a truncated file) raises SIGBUS: the append must fall back to write calls.
func TestSigbusFallback(t *testing.T) {
	dir := t.TempDir()
	st, err := openStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if st.log.m == nil {
		t.Skip("no mapping")
	}
	if err := os.Truncate(filepath.Join(dir, LinkLogFile), 0); err != nil {
		t.Fatal(err)
	}
	outs := finishedOutcomes(t, st, 3, "s")
	if err := st.finishMany(outs); err != nil {
		t.Fatal(err)
	}
	if st.log.m != nil {
		t.Fatal("still mapped after a fault")
	}
	st = reopen(t, st, dir)
	defer st.close()
	checkDone(t, st, outs, true)
}
