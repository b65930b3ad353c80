// One set of Pulumi mocks for every unit test file (setMocks is process-wide).
import * as pulumi from "@pulumi/pulumi";

export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  provider?: string;
  /** Set when the resource is imported: the existing object's id. */
  id?: string;
}

/** Every resource registered since the last reset(). */
export const registered: Registered[] = [];

export function reset(): void {
  registered.length = 0;
}

pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider, id: args.id });
      return { id: `${args.name}-id`, state: { ...args.inputs, stdout: "configuration unchanged\n" } };
    },
    call: () => ({}),
  },
  "pg-replication",
  "unit",
  false,
);

// How the SDK hands a mock a secret input: wrapped under this signature key.
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export const isSecretValue = (v: unknown): boolean => typeof v === "object" && v !== null && SECRET_SIG in v;

export const plain = (v: unknown): Record<string, unknown> & string =>
  (isSecretValue(v) ? (v as unknown as { value: unknown }).value : v) as Record<string, unknown> & string;

export function value<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((v) => resolve(v)));
}
