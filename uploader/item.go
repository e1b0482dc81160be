package uploader

import (
	"strconv"
	"time"
)

// State is where a queued file stands.
type State string

const (
	StateQueued     State = "queued"
	StateUploading  State = "uploading"
	StateProcessing State = "processing" // chunked upload sent; the server is joining it
	StateDone       State = "done"
	StateFailed     State = "failed" // Retrying tells whether it will be tried again
	StateSkipped    State = "skipped"
	StateCancelled  State = "cancelled"
)

// Terminal reports whether nothing more will happen to an item in this state
// without a user action (retry).
func (s State) Terminal() bool {
	return s == StateDone || s == StateSkipped || s == StateCancelled
}

// Source says where an item came from.
type Source string

const (
	SourceWatch Source = "watch" // seen in a watched folder
	SourceUser  Source = "user"  // dropped, opened, or `upload` handed to the owner
)

// ItemID identifies a queue item. It grows with each new item.
type ItemID uint64

func (id ItemID) String() string { return strconv.FormatUint(uint64(id), 10) }

// ParseItemID parses an ID as printed by String.
func ParseItemID(s string) (ItemID, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	return ItemID(n), err
}

// Item is one file in the queue. It is a copy: the engine owns the real one.
type Item struct {
	ID      ItemID    `json:"id"`
	Path    string    `json:"path"`
	Folder  string    `json:"folder,omitempty"` // watched folder it came from
	Source  Source    `json:"source"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mtime"`
	SHA256  string    `json:"sha256,omitempty"`
	State   State     `json:"state"`
	// Reason explains failed and skipped states (the server's own message for
	// permanent failures).
	Reason      string    `json:"reason,omitempty"`
	Retrying    bool      `json:"retrying,omitempty"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	Attempts    int       `json:"attempts,omitempty"`
	Added       time.Time `json:"added"`
	Updated     time.Time `json:"updated"`
	URL         string    `json:"url,omitempty"`
	FileID      string    `json:"file_id,omitempty"`
	// Reused is true when an earlier upload of the same content was still on
	// the server and its link was used instead of uploading again.
	Reused bool `json:"reused,omitempty"`
	// solo: send on its own, never in a group (a group with it was
	// refused, or it grew too big). Not saved: a restart tries again.
	solo bool
}

// ready reports whether the item may be started now.
func (it *Item) ready(now time.Time) bool {
	switch it.State {
	case StateQueued:
		return !it.NextAttempt.After(now)
	case StateFailed:
		return it.Retrying && !it.NextAttempt.After(now)
	}
	return false
}

// pending reports whether the item still waits for an upload.
func (it *Item) pending() bool {
	switch it.State {
	case StateQueued, StateUploading, StateProcessing:
		return true
	case StateFailed:
		return it.Retrying
	}
	return false
}

// HistoryEntry is one finished upload, newest first in History.
type HistoryEntry struct {
	ID      uint64    `json:"id"`
	Name    string    `json:"name"` // local file name
	URL     string    `json:"url"`
	RawURL  string    `json:"raw_url,omitempty"`
	FileID  string    `json:"file_id"` // the server's id, for deleting
	Server  string    `json:"server"`
	Size    int64     `json:"size"`
	Time    time.Time `json:"time"`
	Path    string    `json:"path,omitempty"` // local path
	SHA256  string    `json:"sha256,omitempty"`
	Item    ItemID    `json:"item,omitempty"` // queue item, if it came from the queue
	Reused  bool      `json:"reused,omitempty"`
	Options string    `json:"options,omitempty"` // options key, see optionsKey
	Deletes string    `json:"deletes_at,omitempty"`
	// User is the id of the Zipline account that uploaded it, when known:
	// Zipline answers 404 both for a deleted file and another account's.
	User string `json:"user,omitempty"`
}

// record is what prevents double uploads: the same content with the same
// options on the same server maps to one server file.
type record struct {
	URL       string    `json:"url"`
	RawURL    string    `json:"raw_url,omitempty"`
	FileID    string    `json:"file_id"`
	Name      string    `json:"name,omitempty"` // stored name on the server
	DeletesAt string    `json:"deletes_at,omitempty"`
	Time      time.Time `json:"time"`
	Path      string    `json:"path,omitempty"` // the local file it came from
}

// pathMark remembers the last item made for a local path, so the same file
// (same size and mtime) seen again — after a rescan or a restart — is not
// queued twice.
type pathMark struct {
	Item    ItemID `json:"item"`
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime"` // UnixNano
}
