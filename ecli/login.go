package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"ecli/ecli/internal/oci"
)

// loginOptions are the flags of `ecli login`.
type loginOptions struct {
	remote        remoteOptions
	user          string
	password      string
	passwordStdin bool
}

func (o *loginOptions) ApplyFlags(fs *pflag.FlagSet) {
	o.remote.ApplyFlags(fs)
	fs.StringVarP(&o.user, "username", "u", "", "user name")
	fs.StringVarP(&o.password, "password", "p", "", "password (insecure: prefer --password-stdin)")
	fs.BoolVar(&o.passwordStdin, "password-stdin", false, "read the password from standard input")
}

func newLoginCmd() *cobra.Command {
	var opts loginOptions
	cmd := &cobra.Command{
		Use:   "login [flags] REGISTRY",
		Short: "Log in to an OCI registry (stored the way docker stores it)",
		Long: `Check a user name and password against REGISTRY (HOST[:PORT]) and store them
the way docker does: in the credential helper that $DOCKER_CONFIG/config.json
(default ~/.docker/config.json) names for the registry (credHelpers, credsStore),
else base64-encoded in that file's "auths". Logins made with docker work too.

Give the password on standard input with --password-stdin; -p works but leaves
the password in the shell history and the process list. Without -u on a
terminal, both are asked for.`,
		Example: `  echo "$TOKEN" | ecli login localhost:5000 -u me --password-stdin`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLogin(cmd, args[0], &opts)
		},
	}
	opts.ApplyFlags(cmd.Flags())
	return cmd
}

func newLogoutCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "logout REGISTRY",
		Short: "Remove the stored credentials of an OCI registry",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLogout(cmd, args[0])
		},
	}
}

// registryHost accepts HOST[:PORT], also written as a URL (https://HOST/...), as docker does.
func registryHost(s string) string {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	host, _, _ := strings.Cut(s, "/")
	return host
}

func runLogin(cmd *cobra.Command, registry string, opts *loginOptions) error {
	host := registryHost(registry)
	user, password, err := credentials(cmd, opts)
	if err != nil {
		return err
	}
	c, err := opts.remote.client(cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	if err := c.Login(cmd.Context(), host, user, password); err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), "Login Succeeded")
	return nil
}

// credentials returns the user name and password of a login: from the flags, standard
// input (--password-stdin), else asked for on the terminal.
func credentials(cmd *cobra.Command, f *loginOptions) (user, password string, err error) {
	stderr := cmd.ErrOrStderr()
	user, password = f.user, f.password
	switch {
	case f.passwordStdin && password != "":
		return "", "", usagef("login: --password and --password-stdin are mutually exclusive")
	case f.passwordStdin:
		if user == "" {
			return "", "", usagef("login: --password-stdin needs --username")
		}
		b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<20))
		if err != nil {
			return "", "", fmt.Errorf("login: reading password from stdin: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
	case password != "":
		fmt.Fprintln(stderr, "WARNING! Using --password on the command line is insecure; use --password-stdin.")
	}
	if user == "" || password == "" {
		in, ok := cmd.InOrStdin().(*os.File)
		if !ok || !isTerminal(in) {
			return "", "", usagef("login: give --username and --password-stdin (standard input is not a terminal to ask on)")
		}
		r := bufio.NewReader(in)
		if user == "" {
			fmt.Fprint(stderr, "Username: ")
			line, err := r.ReadString('\n')
			if err != nil {
				return "", "", fmt.Errorf("login: reading user name: %w", err)
			}
			user = strings.TrimSpace(line)
		}
		if password == "" {
			fmt.Fprint(stderr, "Password: ")
			p, err := readPassword(in)
			fmt.Fprintln(stderr)
			if err != nil {
				return "", "", fmt.Errorf("login: reading password: %w", err)
			}
			password = p
		}
	}
	if user == "" || password == "" {
		return "", "", usagef("login: user name and password must not be empty")
	}
	return user, password, nil
}

func runLogout(cmd *cobra.Command, registry string) error {
	host := registryHost(registry)
	c, err := oci.New(oci.Options{})
	if err != nil {
		return err
	}
	if err := c.Logout(cmd.Context(), host); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Removed login credentials for %s\n", host)
	return nil
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// readPassword reads one line from the terminal f with echo turned off.
func readPassword(f *os.File) (string, error) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return "", err
	}
	noEcho := *old
	noEcho.Lflag &^= unix.ECHO
	noEcho.Lflag |= unix.ICANON | unix.ISIG
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &noEcho); err != nil {
		return "", err
	}
	defer unix.IoctlSetTermios(fd, unix.TCSETS, old)
	var buf []byte
	b := make([]byte, 1)
	for {
		n, err := f.Read(b)
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			buf = append(buf, b[0])
		}
		if err != nil {
			if err == io.EOF && len(buf) > 0 {
				break
			}
			return "", err
		}
	}
	return strings.TrimRight(string(buf), "\r"), nil
}
