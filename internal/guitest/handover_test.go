package guitest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An uploader config given to a second start (a double click, "Open with")
// while the app runs is imported by the running app: the second process
// exits at once with 0, the running app is signed in, and its sign-in
// window closes.
func TestSXCUHandedToRunningApp(t *testing.T) {
	s := newSession(t)
	srv := fakeServer(t)
	tok, err := srv.IssueToken(testUser)
	if err != nil {
		t.Fatal(err)
	}
	app := s.start()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if _, err := app.waitWindow(ctx, titleSignIn); err != nil {
		t.Fatal(err)
	}

	conf := filepath.Join(t.TempDir(), "Zipline.sxcu")
	body := fmt.Sprintf(`{"Version":"15.0.0","Name":"Zipline","DestinationType":"ImageUploader, FileUploader",
"RequestMethod":"POST","RequestURL":%q,"Headers":{"authorization":%q,"x-zipline-format":"random"},
"URL":"{json:files[0].url}","Body":"MultipartFormData","FileFormName":"file"}`, srv.URL+"/api/upload", tok)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	s.run("", conf) // fails the test on a non-zero exit

	whoami := func() (string, error) {
		cmd := exec.CommandContext(ctx, s.bin, "whoami")
		cmd.Env = s.env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	var last string
	err = poll(ctx, "the running app to import the config", func() (bool, error) {
		out, err := whoami()
		last = out
		return err == nil && strings.Contains(out, testUser), nil
	})
	if err != nil {
		t.Fatalf("%v; whoami said: %s", err, last)
	}
	if err := app.waitNoWindow(ctx, titleSignIn); err != nil {
		t.Fatal(err)
	}
	if app.exited() {
		t.Fatal("the running app exited")
	}
}
