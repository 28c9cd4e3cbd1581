/**
 * The regions LocalCloud's ECS serves (ids, local names, the id prefix of resources created in each) and their
 * endpoints, as DescribeRegions answers them.
 */
/** An Alibaba Cloud region as LocalCloud's ECS knows it. */
export interface EcsRegion {
  readonly regionId: string;
  /** `LocalName` for `AcceptLanguage=zh-CN` (the API default). */
  readonly localName: string;
  /** `LocalName` for `AcceptLanguage=en-US` (and `ja`, which LocalCloud answers in English). */
  readonly localNameEn: string;
  /** The 3 characters after `m-` / `s-` in the ids of resources created in this region, as on the real cloud. */
  readonly idPrefix: string;
}

const region = (regionId: string, localName: string, localNameEn: string, idPrefix: string): EcsRegion => ({
  regionId,
  localName,
  localNameEn,
  idPrefix,
});

/** The regions LocalCloud's ECS serves: a fixed, realistic subset of the public Alibaba Cloud regions. */
export const ECS_REGIONS: readonly EcsRegion[] = [
  region('cn-qingdao', '华北1（青岛）', 'China (Qingdao)', 'm5e'),
  region('cn-beijing', '华北2（北京）', 'China (Beijing)', '2ze'),
  region('cn-zhangjiakou', '华北3（张家口）', 'China (Zhangjiakou)', '8vb'),
  region('cn-huhehaote', '华北5（呼和浩特）', 'China (Hohhot)', 'hp3'),
  region('cn-wulanchabu', '华北6（乌兰察布）', 'China (Ulanqab)', '0jl'),
  region('cn-hangzhou', '华东1（杭州）', 'China (Hangzhou)', 'bp1'),
  region('cn-shanghai', '华东2（上海）', 'China (Shanghai)', 'uf6'),
  region('cn-shenzhen', '华南1（深圳）', 'China (Shenzhen)', 'wz9'),
  region('cn-heyuan', '华南2（河源）', 'China (Heyuan)', 'f8z'),
  region('cn-guangzhou', '华南3（广州）', 'China (Guangzhou)', '7xv'),
  region('cn-chengdu', '西南1（成都）', 'China (Chengdu)', '2vc'),
  region('cn-hongkong', '中国香港', 'China (Hong Kong)', 'j6c'),
  region('ap-southeast-1', '新加坡', 'Singapore', 't4n'),
  region('ap-southeast-3', '马来西亚（吉隆坡）', 'Malaysia (Kuala Lumpur)', '8ps'),
  region('ap-southeast-5', '印度尼西亚（雅加达）', 'Indonesia (Jakarta)', 'k1a'),
  region('ap-southeast-6', '菲律宾（马尼拉）', 'Philippines (Manila)', '5ts'),
  region('ap-southeast-7', '泰国（曼谷）', 'Thailand (Bangkok)', '0jo'),
  region('ap-northeast-1', '日本（东京）', 'Japan (Tokyo)', '6we'),
  region('ap-northeast-2', '韩国（首尔）', 'South Korea (Seoul)', 'mj7'),
  region('ap-south-1', '印度（孟买）', 'India (Mumbai)', 'a2d'),
  region('us-west-1', '美国（硅谷）', 'US (Silicon Valley)', 'rj9'),
  region('us-east-1', '美国（弗吉尼亚）', 'US (Virginia)', '0xi'),
  region('eu-central-1', '德国（法兰克福）', 'Germany (Frankfurt)', 'gw8'),
  region('eu-west-1', '英国（伦敦）', 'UK (London)', 'd7o'),
  region('me-east-1', '阿联酋（迪拜）', 'UAE (Dubai)', 'eb3'),
  region('me-central-1', '沙特（利雅得）', 'Saudi Arabia (Riyadh)', 'l4v'),
];

/** The region ids of `ECS_REGIONS`, in the order DescribeRegions lists them. */
export const ECS_REGION_IDS: readonly string[] = ECS_REGIONS.map((r) => r.regionId);

export const findRegion = (regionId: string): EcsRegion | undefined =>
  ECS_REGIONS.find((r) => r.regionId === regionId);

/** The public endpoint of ECS in a region, as DescribeRegions reports it. */
export const regionEndpoint = (regionId: string): string => `ecs.${regionId}.aliyuncs.com`;
