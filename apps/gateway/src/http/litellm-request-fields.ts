/**
 * What the gateway does with each top-level request-body field that is not plain OpenAI API.
 *
 * - `forbidden`: would let a client redirect the gateway or swap its credentials. LiteLLM honours
 *   them, which turns a gateway into an open relay; Fleetgate refuses the request with a 400.
 * - `control`: LiteLLM's own request fields that Fleetgate acts on (fallbacks, retries, timeouts,
 *   mocks, tracking metadata); read by `readRequestControls`, never sent upstream.
 * - `consumed`: LiteLLM's own request fields Fleetgate does not act on (caching, guardrails, prompt
 *   management, logging callbacks, pricing overrides, …). LiteLLM's proxy consumes them; a real
 *   provider answers 400 to parameters it does not know, so they are dropped, never forwarded.
 *
 * Every other field reaches the upstream exactly as the client sent it (OpenAI's parameters, and
 * provider-specific ones such as vLLM's `top_k`, which LiteLLM passes through too).
 *
 * Sources: LiteLLM's `all_litellm_params` and `StandardCallbackDynamicParams`
 * (BerriAI/litellm `litellm/types/utils.py`), the router's request kwargs (`litellm/router.py`) and
 * the proxy's untrusted control fields (`litellm/proxy/litellm_pre_call_utils.py`).
 */
export type FieldRole = 'forbidden' | 'control' | 'consumed';

const FORBIDDEN = [
  'api_base',
  'base_url',
  'api_key',
  'api_version',
  'custom_llm_provider',
  'organization',
  'extra_headers',
  'azure_ad_token',
  'azure_ad_token_provider',
  'azure_username',
  'azure_password',
  'azure_scope',
  'tenant_id',
  'client_id',
  'client_secret',
  'aws_access_key_id',
  'aws_secret_access_key',
  'aws_session_token',
  'aws_region_name',
  'aws_profile_name',
  'aws_role_name',
  'aws_web_identity_token',
  'aws_bedrock_runtime_endpoint',
  'vertex_credentials',
  'vertex_project',
  'vertex_location',
  'litellm_credential_name',
  'configurable_clientside_auth_params',
  'model_list',
] as const;

/** LiteLLM's fields Fleetgate reads (see `request-controls.ts`). */
export const CONTROL_FIELDS = [
  'fallbacks',
  'disable_fallbacks',
  'num_retries',
  'timeout',
  'request_timeout',
  'stream_timeout',
  'mock_response',
  'mock_timeout',
  'mock_testing_fallbacks',
  'mock_testing_rate_limit_error',
  'metadata',
  'litellm_metadata',
  'tags',
  'priority',
] as const;

const CONSUMED = [
  // Routing and reliability knobs Fleetgate takes from its config, not from requests.
  'context_window_fallbacks',
  'content_policy_fallbacks',
  'context_window_fallback_dict',
  'max_fallbacks',
  'fallback_depth',
  'retry_policy',
  'retry_strategy',
  'max_retries',
  'force_timeout',
  'model_group',
  'specific_deployment',
  'deployment_id',
  'rpm',
  'tpm',
  'max_parallel_requests',
  'weight',
  'order',
  'cooldown_time',
  'region_name',
  'allowed_model_region',
  'base_model',
  'model_info',
  'hf_model_name',
  'fastest_response',
  'use_in_pass_through',
  'use_litellm_proxy',
  'allowed_openai_params',
  'drop_params',
  'additional_drop_params',
  'modify_params',
  'supports_system_message',
  'merge_reasoning_content_in_choices',
  'ensure_alternating_roles',
  'user_continue_message',
  'assistant_continue_message',
  'disable_add_transform_inline_image_block',
  'roles',
  'final_prompt_value',
  'bos_token',
  'eos_token',
  'complete_response',
  'model_config',
  'max_budget',
  'budget_duration',
  // Testing switches Fleetgate does not implement.
  'mock_tool_calls',
  'mock_testing_context_window_fallbacks',
  'mock_testing_content_policy_fallbacks',
  'litellm_proxy_rate_limit_response',
  // Caching.
  'caching',
  'cache',
  'cache_key',
  'preset_cache_key',
  'caching_groups',
  'ttl',
  'no-log',
  // Guardrails and policies.
  'guardrails',
  'disable_global_guardrails',
  'disable_global_guardrail',
  'opted_out_global_guardrails',
  'applied_guardrails',
  'applied_policies',
  'policy_sources',
  // Prompt management.
  'prompt_id',
  'prompt_variables',
  'prompt_version',
  'prompt_label',
  // Tracing, logging and callbacks.
  'litellm_call_id',
  'litellm_trace_id',
  'litellm_session_id',
  'litellm_logging_obj',
  'litellm_disabled_callbacks',
  'callbacks',
  'service_callback',
  'success_callback',
  'failure_callback',
  'logger_fn',
  'verbose',
  'turn_off_message_logging',
  'langfuse_public_key',
  'langfuse_secret',
  'langfuse_secret_key',
  'langfuse_host',
  'gcs_bucket_name',
  'gcs_path_service_account',
  'langsmith_api_key',
  'langsmith_project',
  'langsmith_base_url',
  'humanloop_api_key',
  'arize_api_key',
  'arize_space_key',
  // Pricing overrides (LiteLLM strips them from client requests too).
  'input_cost_per_token',
  'output_cost_per_token',
  'input_cost_per_second',
  'output_cost_per_second',
  // The proxy's and the SDK's internals.
  'proxy_server_request',
  'standard_logging_object',
  'secret_fields',
  'pillar_response_headers',
  'provider_specific_header',
  'model_file_id_mapping',
  'acompletion',
  'atext_completion',
  'aimg_generation',
  'text_completion',
  'use_client',
  'client',
  'headers',
  'azure',
  'self',
  'id',
] as const;

/** Field name → role; a field absent here is passed through. Built once. */
export const FIELD_ROLES: ReadonlyMap<string, FieldRole> = new Map<string, FieldRole>([
  ...FORBIDDEN.map((f) => [f, 'forbidden'] as const),
  ...CONTROL_FIELDS.map((f) => [f, 'control'] as const),
  ...CONSUMED.map((f) => [f, 'consumed'] as const),
]);
