// Command test-apiserver is a real Kubernetes API server for tests: the stock
// apiextensions-apiserver (CRDs and custom resources, stored in etcd, with schemas, CEL rules,
// defaults, the status subresource, finalizers, watches and server-side apply), plus the discovery
// that kubectl and kopf need in order to talk to it.
//
// Why a wrapper at all: kind needs a Docker engine, and no registry ships kube-apiserver or envtest
// binaries, but Debian ships the apiextensions-apiserver library as Go source. Its own command
// switches discovery off (it expects to sit behind kube-apiserver, which serves discovery), so on
// its own `/apis` and `/api` answer 404 and no client can find anything. This wrapper:
//   - turns generic discovery back on and keeps the legacy `/apis` group list in step with the
//     Established CRDs (the library only feeds the aggregated discovery document);
//   - serves a discovery-only `/api` and `/api/v1`: kopf refuses to start without `/api`, and never
//     starts its watches unless `/api/v1` lists `namespaces`. Nothing below `/api/v1/` is served;
//   - serves `/openapi/v2` (kubectl uses it for explain and client-side validation);
//   - stops the core informers (Services, for conversion webhooks) that can never sync without a
//     core API, so that the log stays readable;
//   - defaults the options that need a kube-apiserver behind this one to "not there" (see
//     standaloneDefaults), so that the server runs on etcd alone.
//
// Flags are the stock server's (see the README beside this file for the ones tests need).
package main

import (
	"context"
	"os"
	"sort"
	"sync"

	"github.com/spf13/cobra"

	"k8s.io/apiextensions-apiserver/pkg/apihelpers"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/apiserver"
	listers "k8s.io/apiextensions-apiserver/pkg/client/listers/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/cmd/server/options"
	generatedopenapi "k8s.io/apiextensions-apiserver/pkg/generated/openapi"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/apiserver/pkg/endpoints/discovery"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/util/openapi"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/cache"
	"k8s.io/component-base/cli"
	"k8s.io/klog/v2"
)

// The generic server's post-start hook that starts core informers; without a core API they never
// sync, retry forever and fill the log.
const coreInformersHook = "generic-apiserver-start-informers"

func main() {
	ctx := genericapiserver.SetupSignalContext()
	opts := options.NewCustomResourceDefinitionsServerOptions(os.Stdout, os.Stderr)
	standaloneDefaults(opts)
	cmd := &cobra.Command{
		Use:          "test-apiserver",
		Short:        "A CRD-only Kubernetes API server with discovery, for tests",
		SilenceUsage: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return opts.ServerRunOptions.ComponentGlobalsRegistry.Set()
		},
		RunE: func(c *cobra.Command, _ []string) error { return run(c.Context(), opts) },
	}
	cmd.SetContext(ctx)
	opts.AddFlags(cmd.Flags())
	os.Exit(cli.Run(cmd))
}

// standaloneDefaults changes defaults (flags still override them) that assume a kube-apiserver
// to delegate to. With them, clients authenticate by client certificate only; users in
// system:masters may do everything and everyone else gets 403, as no authorizer is asked.
func standaloneDefaults(opts *options.CustomResourceDefinitionsServerOptions) {
	recommended := opts.RecommendedOptions
	recommended.Authentication.RemoteKubeConfigFileOptional = true
	recommended.Authentication.SkipInClusterLookup = true
	recommended.Authorization.RemoteKubeConfigFileOptional = true
	// Each needs what this server lacks: Namespace objects, or webhook and policy objects.
	recommended.Admission.DisablePlugins = []string{
		"NamespaceLifecycle", "MutatingAdmissionWebhook", "ValidatingAdmissionWebhook",
		"ValidatingAdmissionPolicy", "MutatingAdmissionPolicy",
	}
	// Priority and fairness keeps its configuration in objects this server cannot serve.
	recommended.Features.EnablePriorityAndFairness = false
}

func run(ctx context.Context, opts *options.CustomResourceDefinitionsServerOptions) error {
	if err := opts.Complete(); err != nil {
		return err
	}
	if err := opts.Validate(); err != nil {
		return err
	}
	config, err := opts.Config()
	if err != nil {
		return err
	}
	// As the library's own test server does: without an OpenAPIConfig there is no /openapi/v2.
	config.GenericConfig.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(
		openapi.GetOpenAPIDefinitionsWithoutDisabledFeatures(generatedopenapi.GetOpenAPIDefinitions),
		openapinamer.NewDefinitionNamer(apiserver.Scheme, scheme.Scheme),
	)
	config.GenericConfig.DisabledPostStartHooks.Insert(coreInformersHook)

	completed := config.Complete()
	// Complete() forces discovery off; it must be switched on again before New() installs routes.
	completed.GenericConfig.EnableDiscovery = true
	server, err := completed.New(genericapiserver.NewEmptyDelegate())
	if err != nil {
		return err
	}

	generic := server.GenericAPIServer
	crds := server.Informers.Apiextensions().V1().CustomResourceDefinitions()
	groups := &groupSync{manager: generic.DiscoveryGroupManager, crds: crds.Lister(), added: map[string]bool{}}
	// Registered before the server starts the informer factory in its post-start hook.
	if _, err := crds.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { groups.sync() },
		UpdateFunc: func(any, any) { groups.sync() },
		DeleteFunc: func(any) { groups.sync() },
	}); err != nil {
		return err
	}

	serveCoreDiscovery(generic, completed.GenericConfig.DiscoveryAddresses)
	return generic.PrepareRun().RunWithContext(ctx)
}

// groupSync mirrors the Established CRDs' groups into the legacy `/apis` group list, which kopf
// and older clients read (the library only updates the aggregated discovery document).
type groupSync struct {
	mu      sync.Mutex
	manager discovery.GroupManager
	crds    listers.CustomResourceDefinitionLister
	added   map[string]bool // groups this wrapper added; apiextensions.k8s.io is not ours to remove
}

func (g *groupSync) sync() {
	g.mu.Lock()
	defer g.mu.Unlock()
	all, err := g.crds.List(labels.Everything())
	if err != nil {
		klog.ErrorS(err, "listing CRDs for discovery")
		return
	}
	wanted := servedVersionsByGroup(all)
	for group := range g.added {
		if _, ok := wanted[group]; !ok {
			g.manager.RemoveGroup(group)
			delete(g.added, group)
		}
	}
	for group, versions := range wanted {
		g.manager.AddGroup(apiGroup(group, versions))
		g.added[group] = true
	}
}

// servedVersionsByGroup lists, per API group, the versions served by its Established CRDs.
// Not-yet-Established CRDs are left out, as kube-apiserver does: their resources cannot be used.
func servedVersionsByGroup(crds []*apiextensionsv1.CustomResourceDefinition) map[string]map[string]bool {
	groups := map[string]map[string]bool{}
	for _, crd := range crds {
		if !apihelpers.IsCRDConditionTrue(crd, apiextensionsv1.Established) {
			continue
		}
		for _, v := range crd.Spec.Versions {
			if !v.Served {
				continue
			}
			if groups[crd.Spec.Group] == nil {
				groups[crd.Spec.Group] = map[string]bool{}
			}
			groups[crd.Spec.Group][v.Name] = true
		}
	}
	return groups
}

// apiGroup builds a discovery entry whose preferred version is the most stable, newest one
// (v1 > v1beta2 > v1alpha1), the order kube-apiserver uses.
func apiGroup(group string, versions map[string]bool) metav1.APIGroup {
	names := make([]string, 0, len(versions))
	for v := range versions {
		names = append(names, v)
	}
	sort.Slice(names, func(i, j int) bool {
		return version.CompareKubeAwareVersionStrings(names[i], names[j]) > 0
	})
	entry := metav1.APIGroup{Name: group}
	for _, v := range names {
		entry.Versions = append(entry.Versions, metav1.GroupVersionForDiscovery{
			GroupVersion: group + "/" + v, Version: v,
		})
	}
	entry.PreferredVersion = entry.Versions[0]
	return entry
}

// serveCoreDiscovery answers `/api` and `/api/v1` as kube-apiserver would, advertising namespaces
// (kopf's namespace observer needs to see them) and events (where kopf posts its events). The
// resources themselves do not exist here: requests below `/api/v1/` get 404, which kopf tolerates.
func serveCoreDiscovery(server *genericapiserver.GenericAPIServer, addresses discovery.Addresses) {
	mux := server.Handler.NonGoRestfulMux
	mux.Handle("/api", discovery.NewLegacyRootAPIHandler(addresses, apiserver.Codecs, "/api"))
	resources := []metav1.APIResource{
		{
			Name: "namespaces", Kind: "Namespace", Namespaced: false, ShortNames: []string{"ns"},
			Verbs: metav1.Verbs{"get", "list", "watch"},
		},
		{
			Name: "events", Kind: "Event", Namespaced: true, ShortNames: []string{"ev"},
			Verbs: metav1.Verbs{"create", "get", "list", "patch", "watch"},
		},
	}
	mux.Handle("/api/v1", discovery.NewAPIVersionHandler(
		apiserver.Codecs, schema.GroupVersion{Version: "v1"},
		discovery.APIResourceListerFunc(func() []metav1.APIResource { return resources }),
	))
}
