import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUrl, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';

export const SOURCE_PROVIDERS = ['twilio', 'standard'] as const;
export type SourceProvider = (typeof SOURCE_PROVIDERS)[number];

const NOT_BLANK = /\S/;

export class CreateSourceDto {
  @ApiProperty({ enum: SOURCE_PROVIDERS, description: 'twilio: X-Twilio-Signature; standard: Standard Webhooks.' })
  @IsIn(SOURCE_PROVIDERS)
  provider!: SourceProvider;

  @ApiProperty({ maxLength: 200, example: 'Twilio call status' })
  @IsString()
  @MaxLength(200)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name!: string;

  @ApiPropertyOptional({
    description:
      'Twilio only, required there: the account auth token that signs its requests. Stored encrypted, never shown.',
    maxLength: 200,
  })
  @ValidateIf((o: CreateSourceDto) => o.provider === 'twilio' || o.auth_token !== undefined)
  @IsString()
  @MinLength(8)
  @MaxLength(200)
  auth_token?: string;

  @ApiPropertyOptional({
    description:
      'Twilio only: the exact public URL configured at Twilio (it signs the URL it called). Default: the URL the request reached us at.',
    example: 'https://hooks.example.com/api/webhooks/inbound/0b4e…',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false })
  public_url?: string;
}

export class SourceDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: SOURCE_PROVIDERS }) provider!: SourceProvider;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'Path to configure at the provider.', example: '/api/webhooks/inbound/<id>' })
  url!: string;
  @ApiProperty({ type: String, nullable: true }) public_url!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class CreatedSourceDto extends SourceDto {
  @ApiPropertyOptional({ description: 'Standard only: the whsec_ signing secret, shown once.' })
  secret?: string;
}

export class SourcePageDto {
  @ApiProperty({ type: [SourceDto] }) items!: SourceDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
}

export class InboundAcceptedDto {
  @ApiPropertyOptional({ example: true }) received?: boolean;
  @ApiPropertyOptional({ example: true }) duplicate?: boolean;
}
