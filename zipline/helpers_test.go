package zipline_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/zipline"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// versions are the releases the fake imitates, one per chunk generation
// and error era.
var versions = []string{"4.4", "4.6", "4.7.0", "4.8"}

// fake starts a fake Zipline and returns it with a client signed in as an
// admin (exempt from upload rate limits) and that admin's token.
func fake(t testing.TB, cfg ziplinetest.Config) (*ziplinetest.Server, *zipline.Client, string) {
	t.Helper()
	srv := ziplinetest.NewServer(cfg)
	t.Cleanup(srv.Close)
	u := srv.AddUser("admin", "admin-password", ziplinetest.RoleAdmin)
	tok := u.Token()
	c, err := zipline.NewClient(zipline.Options{Server: srv.URL, Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, tok
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// prng is a deterministic byte stream: big test files without big buffers.
func prng(seed uint64) io.Reader {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return rand.NewChaCha8(s)
}

// prngUpload is an Upload of size bytes of the stream for seed.
func prngUpload(name string, seed uint64, size int64) zipline.Upload {
	return zipline.Upload{Name: name, Size: size, ContentType: "application/octet-stream",
		Open: func() (io.ReadCloser, error) { return io.NopCloser(io.LimitReader(prng(seed), size)), nil }}
}

func prngSHA(seed uint64, size int64) string {
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(prng(seed), size)); err != nil {
		panic(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// fileNamed finds a stored file by its stored name.
func fileNamed(t testing.TB, srv *ziplinetest.Server, name string) ziplinetest.File {
	t.Helper()
	for _, f := range srv.Files() {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no file %q on the server; have %+v", name, srv.Files())
	return ziplinetest.File{}
}

// fileByID finds a stored file by id.
func fileByID(t testing.TB, srv *ziplinetest.Server, id string) ziplinetest.File {
	t.Helper()
	for _, f := range srv.Files() {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("no file id %q on the server", id)
	return ziplinetest.File{}
}

// noSecret fails if err's message holds any of the secrets.
func noSecret(t testing.TB, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error message contains a secret: %q", err.Error())
		}
	}
}

func wantIs(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want one matching %q", err, target)
	}
}

// pngBytes is the 73-byte 4×4 PNG of the transcripts' shape.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x04\x00\x00\x00\x04\x08\x02\x00\x00\x00&\x93\t)\x00\x00\x00\x10IDATx\x9cc\xf8\xff\xff?\x03\x0c\xc3\x01\x00\x8e\x9a\x0f\xf1l\xd1\x1c\x8f\x00\x00\x00\x00IEND\xaeB`\x82")
