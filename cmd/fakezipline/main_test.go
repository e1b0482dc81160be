package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the command, so the real main runs in a real
// process with real signals.
func TestMain(m *testing.M) {
	if os.Getenv("FAKEZIPLINE_AS_MAIN") == "1" {
		os.Args = append([]string{"fakezipline"}, strings.Fields(os.Getenv("FAKEZIPLINE_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func command(args string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "FAKEZIPLINE_AS_MAIN=1", "FAKEZIPLINE_ARGS="+args)
	return cmd
}

func TestServeTokenAndSignal(t *testing.T) {
	cmd := command("-version 4.8 -print-token -hash-only -user tray -max-file-size 5mb -chunk-size 1mb -chunk-max 2mb -totp -proxy-limit 1kb")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 2)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func() string {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("output ended")
			}
			return l
		case <-time.After(20 * time.Second):
			t.Fatal("no output")
		}
		return ""
	}
	url, token := next(), next()
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line %q", url)
	}
	req, _ := http.NewRequest("GET", url+"/api/user", nil)
	req.Header.Set("Authorization", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ User struct{ Username string } }
	json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if res.StatusCode != 200 || body.User.Username != "tray" {
		t.Fatalf("%d %+v", res.StatusCode, body)
	}
	res, err = http.Get(url + "/api/server/public")
	if err != nil {
		t.Fatal(err)
	}
	var pub struct {
		Files  struct{ MaxFileSize string }
		Chunks struct{ Size, Max string }
	}
	json.NewDecoder(res.Body).Decode(&pub)
	res.Body.Close()
	if pub.Files.MaxFileSize != "5mb" || pub.Chunks.Size != "1mb" || pub.Chunks.Max != "2mb" {
		t.Fatalf("public %+v", pub)
	}
	res, err = http.Post(url+"/api/upload", "multipart/form-data; boundary=x", strings.NewReader(strings.Repeat("x", 2000)))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Fatalf("proxy limit: %d", res.StatusCode)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
		if !strings.Contains(stderr.String(), "totp_secret=") {
			t.Fatalf("no TOTP secret logged: %s", stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("did not exit on SIGTERM")
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range []string{"-max-file-size lots", "-version 3.7", "-addr 256.0.0.1:1", "-cert-out /tmp/x.pem"} {
		out, err := command(args).CombinedOutput()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "fakezipline:") {
			t.Fatalf("%s: %v %s", args, err, out)
		}
	}
}
