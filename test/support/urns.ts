// The URNs a component tree gets, computed as the engine does (the whole chain of parent types;
// the mocks keep only the last one), with the URNs each resource's aliases map from.
import * as pulumi from "@pulumi/pulumi";

export interface Named {
  urn: string;
  /** The URNs its aliases stand for: a state holding one of these moves over to `urn`. */
  aliases: string[];
}

const urnOf = (qualifiedType: string, name: string) => `urn:pulumi:unit::pg-replication::${qualifiedType}::${name}`;

/** A transformation to pass in the top component's options, and what it saw. */
export function urnRecorder(): { transformation: pulumi.ResourceTransformation; seen: Named[] } {
  const qualified = new Map<pulumi.Resource, string>();
  const seen: Named[] = [];
  const qualify = (type: string, parent: pulumi.Resource | undefined) => {
    const p = parent && qualified.get(parent);
    return p ? `${p}$${type}` : type;
  };
  const transformation: pulumi.ResourceTransformation = (args) => {
    const type = qualify(args.type, args.opts.parent);
    qualified.set(args.resource, type);
    const aliases = (args.opts.aliases ?? []).map((a) => {
      if (typeof a === "string") return a;
      const alias = a as pulumi.Alias;
      const parent = alias.parent as pulumi.Resource | undefined;
      return urnOf(qualify(String(alias.type ?? args.type), parent), String(alias.name ?? args.name));
    });
    seen.push({ urn: urnOf(type, args.name), aliases });
    return undefined;
  };
  return { transformation, seen };
}

/**
 * The URNs of an existing stack's state that `seen` takes over: each resource by its URN, or by
 * one of its aliases when the URN is new. Equal to the old list: no replace, no delete.
 */
export function urnsTakenOver(seen: Named[], existing: string[]): string[] {
  return seen.map((r) => (existing.includes(r.urn) ? r.urn : (r.aliases.find((a) => existing.includes(a)) ?? r.urn))).sort();
}
