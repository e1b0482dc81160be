//go:build benchpprof

package main

// A debugging aid for scripts/bench-gui.sh findings, off in every normal
// build: built with -tags benchpprof, the app serves net/http/pprof on
// $ZIPLINE_TRAY_PPROF (e.g. 127.0.0.1:6060), so
//	go tool pprof -sample_index=inuse_space http://127.0.0.1:6060/debug/pprof/heap
// shows what holds memory in the running tray app.

import (
	"log/slog"
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	if addr := os.Getenv("ZIPLINE_TRAY_PPROF"); addr != "" {
		go func() {
			if err := http.ListenAndServe(addr, nil); err != nil {
				slog.Warn("pprof server", "err", err)
			}
		}()
	}
}
