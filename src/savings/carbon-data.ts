/**
 * The Cloud Carbon Footprint methodology's coefficients for AWS
 * (https://www.cloudcarbonfootprint.org/docs/methodology), copied from the CCF
 * repository on 2026-12-01 (sources below, by commit): energy while running is
 * (average watts per vCPU x vCPUs + memory watts per GB x GB) x PUE, and carbon
 * is energy x the grid's emissions factor of the resource's region. Estimates,
 * and labelled so wherever they are shown.
 */

export const CARBON_SOURCES: readonly string[] = [
  'ccf-methodology: https://www.cloudcarbonfootprint.org/docs/methodology',
  'ccf-aws-constants: https://github.com/cloud-carbon-footprint/cloud-carbon-footprint/blob/3668d2e1d6bb6589e61763f0c6697beec3543ee9/packages/aws/src/domain/AwsFootprintEstimationConstants.ts',
  'ccf-embodied-doc: https://github.com/cloud-carbon-footprint/cloud-carbon-footprint/blob/6ae5ee8ccfbb60a9d199284e6c97fe2f18828fd9/microsite/docs/HowItWorks/EmbodiedEmissions.md',
  'ccf-instance-types-0656d55: https://github.com/cloud-carbon-footprint/cloud-carbon-footprint/blob/0656d55594b69d74ce35ff18019be36140beaa50/packages/aws/src/lib/AWSInstanceTypes.ts',
  'ccf-instance-types-765e506: https://github.com/cloud-carbon-footprint/cloud-carbon-footprint/blob/765e506d1662e8aa1a6adee9b23f48d051d0d9a3/packages/aws/src/lib/AWSInstanceTypes.ts',
];

/** Watts per vCPU at idle and at full load, AWS averages. */
export const MIN_WATTS_PER_VCPU = 0.74;
export const MAX_WATTS_PER_VCPU = 3.5;
/** CCF's default utilisation when none is measured. */
export const AVERAGE_CPU_UTILIZATION = 0.5;
/** kWh per GB-hour of memory (0.392 W per GB). */
export const MEMORY_KWH_PER_GB_HOUR = 0.000392;
/** Power usage effectiveness of AWS data centres. */
export const AWS_PUE = 1.135;

/** kg CO2e per kWh by AWS region (CCF: EPA eGRID in the US, carbonfootprint.com and EEA elsewhere). */
export const GRID_KG_PER_KWH: Readonly<Record<string, number>> = {
  'af-south-1': 0.9006,
  'ap-east-1': 0.71,
  'ap-northeast-1': 0.4658,
  'ap-northeast-2': 0.4156,
  'ap-northeast-3': 0.4658,
  'ap-south-1': 0.7082,
  'ap-southeast-1': 0.408,
  'ap-southeast-2': 0.76,
  'ca-central-1': 0.12,
  'cn-north-1': 0.5374,
  'cn-northwest-1': 0.5374,
  'eu-central-1': 0.311,
  'eu-north-1': 0.0088,
  'eu-south-1': 0.2134,
  'eu-west-1': 0.2786,
  'eu-west-2': 0.225,
  'eu-west-3': 0.0511,
  'me-south-1': 0.5059,
  'sa-east-1': 0.0617,
  'us-east-1': 0.379069,
  'us-east-2': 0.410608,
  'us-west-1': 0.322167,
  'us-west-2': 0.322167,
};

/** [vCPUs, GiB of memory] by EC2 instance type (CCF's instance tables). */
export const EC2_SPECS: Readonly<Record<string, readonly [number, number]>> = {
  'c5.2xlarge': [8, 16],
  'c5.4xlarge': [16, 32],
  'c5.large': [2, 4],
  'c5.xlarge': [4, 8],
  'c6i.2xlarge': [8, 16],
  'c6i.4xlarge': [16, 32],
  'c6i.large': [2, 4],
  'c6i.xlarge': [4, 8],
  'm5.2xlarge': [8, 32],
  'm5.4xlarge': [16, 64],
  'm5.large': [2, 8],
  'm5.xlarge': [4, 16],
  'm6g.2xlarge': [8, 32],
  'm6g.4xlarge': [16, 64],
  'm6g.large': [2, 8],
  'm6g.xlarge': [4, 16],
  'm6i.2xlarge': [8, 32],
  'm6i.4xlarge': [16, 64],
  'm6i.large': [2, 8],
  'm6i.xlarge': [4, 16],
  'r5.2xlarge': [8, 64],
  'r5.4xlarge': [16, 128],
  'r5.large': [2, 16],
  'r5.xlarge': [4, 32],
  'r6g.2xlarge': [8, 64],
  'r6g.4xlarge': [16, 128],
  'r6g.large': [2, 16],
  'r6g.xlarge': [4, 32],
  'r6i.2xlarge': [8, 64],
  'r6i.4xlarge': [16, 128],
  'r6i.large': [2, 16],
  'r6i.xlarge': [4, 32],
  't3.2xlarge': [8, 32],
  't3.large': [2, 8],
  't3.medium': [2, 4],
  't3.micro': [2, 1],
  't3.nano': [2, 0.5],
  't3.small': [2, 2],
  't3.xlarge': [4, 16],
  't3a.2xlarge': [8, 32],
  't3a.large': [2, 8],
  't3a.medium': [2, 4],
  't3a.micro': [2, 1],
  't3a.nano': [2, 0.5],
  't3a.small': [2, 2],
  't3a.xlarge': [4, 16],
  't4g.2xlarge': [8, 32],
  't4g.large': [2, 8],
  't4g.medium': [2, 4],
  't4g.micro': [2, 1],
  't4g.nano': [2, 0.5],
  't4g.small': [2, 2],
  't4g.xlarge': [4, 16],
};
