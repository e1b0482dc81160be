package app

import (
	"context"
	"time"

	"github.com/zipline-tray/zipline-tray/auth"
)

// The windows talk to the rest of zipline-tray through these small
// interfaces, so they can be tested headless with fakes; package main plugs
// in the real upload engine and account store.

// Engine is the upload engine as the windows see it.
type Engine interface {
	// Enqueue adds a local file to the upload queue.
	Enqueue(path string) error
	// Subscribe returns a channel of engine events and a function that
	// ends the subscription.
	Subscribe() (<-chan Event, func())
	// Queue is a snapshot of the jobs not yet finished (queued, uploading,
	// processing, failed).
	Queue() []Job
	// History is a snapshot of past uploads, newest first.
	History() []Record
	Retry(id string) error
	RetryAll()
	// Cancel stops a job, or removes a failed one from the queue.
	Cancel(id string) error
	Pause()
	Resume()
	Paused() bool
	// CredentialsChanged tells the engine the token was replaced or removed.
	CredentialsChanged()
	// DeleteRemote deletes an upload from the server and forgets it.
	DeleteRemote(ctx context.Context, id string) error
	// Watching reports each watched folder's live status.
	Watching() []FolderStatus
}

// EventKind is what happened to a job.
type EventKind int

// Event kinds, as the upload engine reports them.
const (
	Queued EventKind = iota
	Progress
	Processing
	Uploaded
	Failed
	AuthRequired // the server answered 401: the queue is paused
	Paused
	Resumed
	Cancelled
	Skipped
	WatchChanged // a watched folder's status changed
)

// Event is one engine event.
type Event struct {
	Kind        EventKind
	Job         string // job id ("" for Paused, Resumed, AuthRequired, WatchChanged)
	Path        string
	Sent, Total int64
	URL         string // Uploaded
	Reason      string // Failed, Skipped: one plain sentence
	Retrying    bool   // Failed: the engine will try again by itself
}

// JobState is where a job stands.
type JobState int

// Job states.
const (
	StateQueued JobState = iota
	StateUploading
	StateProcessing
	StateFailed
)

func (s JobState) String() string {
	switch s {
	case StateUploading:
		return "Uploading"
	case StateProcessing:
		return "Processing on the server"
	case StateFailed:
		return "Failed"
	}
	return "Waiting"
}

// Job is a file in the queue.
type Job struct {
	ID          string
	Path        string
	State       JobState
	Sent, Total int64
	Reason      string // why it failed
	Retrying    bool
	NextTry     time.Time
}

// Record is a past upload.
type Record struct {
	ID   string // history id
	Path string // local file, which may be gone
	Name string // name on the server
	URL  string
	Size int64
	Time time.Time
}

// FolderStatus is the live state of one watched folder.
type FolderStatus struct {
	Path string
	OK   bool
	Text string // "Watching", "Folder missing", ...
}

// Account signs in and out and answers questions about the server.
type Account interface {
	// Current returns the saved server URL and user name ("" when signed out).
	Current() (server, user string)
	// Check validates the saved token (GET /api/user) and returns the user name.
	Check(ctx context.Context) (user string, err error)
	// Probe identifies the server at url and returns its version.
	Probe(ctx context.Context, url string) (version string, err error)
	// SignInPassword signs in with a password (and a TOTP code when the
	// server asked for one: it returns an error matching
	// zipline.ErrTOTPRequired) and stores the token.
	SignInPassword(ctx context.Context, server, user, password, code string, allowHTTP bool) (name string, err error)
	// SignInToken checks and stores a pasted token.
	SignInToken(ctx context.Context, server, token string, allowHTTP bool) (name string, err error)
	SignOut(ctx context.Context) error
	// Folders and Domains list what the upload settings can choose from.
	Folders(ctx context.Context) ([]Folder, error)
	Domains(ctx context.Context) ([]string, error)
	// Explain turns an error into one plain sentence for the user.
	Explain(err error) string
}

// Folder is a folder on the server.
type Folder struct {
	ID, Name string
}

// SettingsStore loads and saves the settings file (config.json, shared
// with the CLI). Save must keep what the settings window does not edit
// (the account, fields of newer versions).
type SettingsStore interface {
	Load() (*auth.Config, error)
	Save(*auth.Config) error
}
