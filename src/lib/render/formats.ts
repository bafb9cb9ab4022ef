/** The output formats each command offers: no imports, so commands can name them at load time cheaply. */
export const TRACE_FORMATS = ['table', 'json', 'mermaid', 'dot'] as const
export type TraceFormat = (typeof TRACE_FORMATS)[number]

export const DOCTOR_FORMATS = ['table', 'json', 'yaml', 'junit', 'sarif', 'html'] as const
export type DoctorFormat = (typeof DOCTOR_FORMATS)[number]
