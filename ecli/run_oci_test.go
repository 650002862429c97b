package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"ecli/ecli/internal/oci/ocitest"
	"ecli/internal/testutils"
	"ecli/packages"
	"ecli/runner"
)

// TestRunFromRegistry: push the built-in tcpconnlat to a real registry, then run it by tag
// and by digest and see a real connect of ours decoded.
func TestRunFromRegistry(t *testing.T) {
	testutils.RequirePrivileged(t)
	reg := ocitest.Start(t, ocitest.Options{})
	env := newCLIEnv(t)
	ref := reg.Host + "/tools/tcpconnlat:v1"
	out, _ := env.ok("", "push", ref, "../packages/tcpconnlat.json")
	digest := strings.TrimSpace(out)
	names := objectNames(t, "tcpconnlat")
	for _, r := range []string{ref, reg.Host + "/tools/tcpconnlat@" + digest} {
		t.Run(strings.TrimPrefix(r, reg.Host+"/"), func(t *testing.T) {
			before := testutils.Snapshot(t)
			runToolFromRef(t, r)
			testutils.WaitNoLeaks(t, before, names...)
		})
	}
}

// objectNames are the program and map names of a built-in tool, for leak checks.
func objectNames(t *testing.T, tool string) []string {
	data, _ := packages.Lookup(tool)
	pkg, err := runner.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pkg.Meta.Progs {
		names = append(names, p.Name)
	}
	for _, m := range pkg.Meta.Maps {
		names = append(names, m.Name)
	}
	return names
}

// runToolFromRef runs `ecli run REF -j` in-process until an event for a connect of ours
// shows up, then cancels the run, as Ctrl-C does, and expects exit status 0.
func runToolFromRef(t *testing.T, ref string) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdout, w := io.Pipe()
	stderr := &lockedBuffer{}
	code := make(chan int, 1)
	go func() {
		code <- execute(ctx, []string{"run", ref, "-j"}, strings.NewReader(""), w, stderr)
		w.Close()
	}()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done(): // nobody reads any more: keep the run from blocking on output
			}
		}
		io.Copy(io.Discard, stdout)
		close(lines)
	}()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(20 * time.Second)
	for found := false; !found; {
		select {
		case <-deadline:
			cancel()
			t.Fatalf("no event for our connect to port %d; stderr: %s", port, stderr)
		case <-tick.C:
			if c, err := net.Dial("tcp4", ln.Addr().String()); err == nil {
				c.Close()
			}
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("ecli run ended; stderr: %s", stderr)
			}
			var ev struct {
				Tgid  int    `json:"tgid"`
				Dport int    `json:"dport"`
				Daddr string `json:"daddr"`
			}
			if json.Unmarshal([]byte(l), &ev) == nil && ev.Dport == port && ev.Tgid == os.Getpid() {
				if ev.Daddr != "127.0.0.1" {
					t.Errorf("event %s", l)
				}
				found = true
			}
		}
	}
	cancel()
	for range lines {
	}
	if c := <-code; c != 0 {
		t.Errorf("ecli run after cancel: exit %d; stderr: %s", c, stderr)
	}
}
