// Package kubernetes holds ecli's Kubernetes manifests (ecli-daemonset.yaml) and decodes
// them strictly with the Kubernetes API types, for the tests: the manifest's unit test,
// and the runtime-image test, which runs the DaemonSet's command line under docker.
package kubernetes

import (
	"bytes"
	_ "embed"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// DaemonSetYAML is deploy/kubernetes/ecli-daemonset.yaml.
//
//go:embed ecli-daemonset.yaml
var DaemonSetYAML []byte

// Manifest is what ecli-daemonset.yaml declares.
type Manifest struct {
	Namespace *corev1.Namespace
	DaemonSet *appsv1.DaemonSet
}

// Decode decodes a multi-document manifest strictly: a field the API types do not have,
// a duplicate field or an unexpected kind is an error naming the document.
func Decode(data []byte) (*Manifest, error) {
	var m Manifest
	for i, doc := range bytes.Split(data, []byte("\n---\n")) {
		var meta struct{ APIVersion, Kind string }
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		var into any
		switch {
		case meta.APIVersion == "v1" && meta.Kind == "Namespace" && m.Namespace == nil:
			m.Namespace = &corev1.Namespace{}
			into = m.Namespace
		case meta.APIVersion == "apps/v1" && meta.Kind == "DaemonSet" && m.DaemonSet == nil:
			m.DaemonSet = &appsv1.DaemonSet{}
			into = m.DaemonSet
		default:
			return nil, fmt.Errorf("document %d: unexpected %s %s", i+1, meta.APIVersion, meta.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, into); err != nil {
			return nil, fmt.Errorf("document %d (%s): %w", i+1, meta.Kind, err)
		}
	}
	if m.DaemonSet == nil {
		return nil, fmt.Errorf("no DaemonSet")
	}
	return &m, nil
}
