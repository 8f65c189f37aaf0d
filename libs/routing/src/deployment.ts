/**
 * What routing needs to know about one upstream deployment. Everything here is plain data from the
 * config; routing never sees URLs, credentials or HTTP.
 */
export interface RoutableDeployment {
  /** Stable id shared by every replica (LiteLLM's `model_info.id`). */
  readonly id: string;
  /** `litellm_params.weight`; simple-shuffle weighs by it first. */
  readonly weight?: number | undefined;
  /** `litellm_params.rpm`; simple-shuffle weighs by it when no weight is set. */
  readonly rpm?: number | undefined;
  /** `litellm_params.tpm`; simple-shuffle weighs by it when neither weight nor rpm is set. */
  readonly tpm?: number | undefined;
  /** `litellm_params.order`; lower orders are tried first, LiteLLM's priority tiers. */
  readonly order?: number | undefined;
  /** USD per prompt and completion token; cost-based-routing tries the cheapest first. */
  readonly inputCostPerToken?: number | undefined;
  readonly outputCostPerToken?: number | undefined;
}
