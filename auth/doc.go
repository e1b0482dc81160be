// Package auth holds what zipline-tray knows about the user between runs:
// where its files live (Paths), the one settings file shared by the CLI,
// the upload engine and the desktop app (Config), the API token in the OS
// keyring (Store), and the sign-in flows that produce that token.
//
// The token lives only in the keyring, or, on machines without one, in the
// ZIPLINE_TOKEN environment variable that the user manages. It is never
// written to a file and never appears in an error message or a log line.
package auth
