import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

const NOT_BLANK = /\S/;

export class CreateAgentDto {
  @ApiProperty({ maxLength: 200, example: 'Sam Ortiz' })
  @IsString()
  @MaxLength(200)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name!: string;

  @ApiPropertyOptional({ maxLength: 100, description: 'Your own id for the agent; unique within the org.' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(NOT_BLANK, { message: 'external_ref must not be blank' })
  external_ref?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 50, default: 1, description: 'Calls the agent may hold at once.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(50)
  max_concurrent_calls?: number;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 3600,
    default: 0,
    description: 'Seconds after a call ends before the agent is offered another.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(3600)
  wrap_up_seconds?: number;
}

export class AgentDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: String, nullable: true }) external_ref!: string | null;
  @ApiProperty() max_concurrent_calls!: number;
  @ApiProperty() wrap_up_seconds!: number;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class AgentPageDto {
  @ApiProperty({ type: [AgentDto] }) items!: AgentDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
}
